import { stdSerializers } from 'pino';

/**
 * Keys whose value may be a credential, wherever they sit in a logged object: by how
 * the name ends, so that accessToken, x-api-key, set-cookie, clientSecret and
 * client-key-data are caught too (tokenName is not).
 */
const CREDENTIAL_KEY =
  /(?:authorization|cookie|token|passw(?:or)?d|secret|api[-_]?key|private[-_]?key|key[-_]?data)$/i;

/** Cheap test for text that may carry a credential: a URL's user info, a JSON field, a bearer. */
const MAY_HOLD_CREDENTIAL = /:\/\/[^\s/@]*@|"\s*:|bearer\s/i;

/** What is replaced inside text, each with what replaces it. */
const CREDENTIALS_IN_TEXT: [RegExp, string][] = [
  // scheme://user:password@host. The scheme starts where no scheme character comes
  // before it: with a mere word boundary, text such as "a-a-a-…_://" would be tried
  // from every letter, in time that grows with the square of its length.
  [/(?<![a-z0-9+.-])([a-z][a-z0-9+.-]*:\/\/)[^\s/@]*@/gi, '$1[redacted]@'],
  // "authorization":"…" or "set-cookie":["…"], as in an error message quoting headers
  [
    new RegExp(
      String.raw`("[\w-]*(?:authorization|cookie|token|passw(?:or)?d|secret|api[-_]?key)"\s*:\s*)` +
        String.raw`(?:"(?:[^"\\]|\\.)*"|\[[^\]]*\])`,
      'gi',
    ),
    '$1"[redacted]"',
  ],
  // A bearer token as sent (16 characters or more, as API tokens are), not the words
  // "bearer token" in a sentence.
  [/\b(bearer\s+)[\w.~+/=-]{16,}/gi, '$1[redacted]'],
];

export const REDACTED = '[redacted]';

/**
 * How deep a logged object is searched: deep enough for an error's request options
 * (err.response.request.headers.authorization), bounded so that a cycle ends.
 */
const MAX_DEPTH = 8;

/**
 * The value with every credential-named key's value replaced, at any depth up to
 * MAX_DEPTH. Copy on write: the value itself is returned when it holds no
 * credential (the common case, at the cost of one walk over its keys), and the
 * caller's objects are never changed. An error that holds one becomes its plain
 * serialised form, so that its message and stack still reach the line.
 *
 * A key-name rule rather than a list of paths: a list misses the path nobody
 * thought of, and pino's wildcard paths cost a walk of every logged value anyway.
 */
export function withoutCredentials<T>(value: T): T {
  try {
    return scrub(value, 0) as T;
  } catch (error) {
    // A getter that throws: the fields cannot be checked, so none of them is written.
    const reason = error instanceof Error ? error.message : String(error);
    return { logFieldsUnreadable: withoutCredentialsInText(reason) } as T;
  }
}

/** The text with URL user info, quoted credential fields and bearer tokens replaced. */
export function withoutCredentialsInText(text: string): string {
  if (!MAY_HOLD_CREDENTIAL.test(text)) return text;
  return CREDENTIALS_IN_TEXT.reduce(
    (scrubbed, [pattern, by]) => scrubbed.replace(pattern, by),
    text,
  );
}

function scrub(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return withoutCredentialsInText(value);
  if (depth >= MAX_DEPTH || value === null || typeof value !== 'object') return value;

  if (Array.isArray(value)) return scrubArray(value, depth);
  if (value instanceof Error) {
    return holdsCredential(value, depth) || textHoldsCredential(value)
      ? serialisedWithout(value, depth)
      : value;
  }
  return scrubObject(value as Record<string, unknown>, depth);
}

function scrubArray(items: unknown[], depth: number): unknown[] {
  let copy: unknown[] | undefined;
  items.forEach((item, index) => {
    const scrubbed = scrub(item, depth + 1);
    if (scrubbed === item) return;
    copy ??= [...items];
    copy[index] = scrubbed;
  });
  return copy ?? items;
}

function scrubObject(object: Record<string, unknown>, depth: number): Record<string, unknown> {
  let copy: Record<string, unknown> | undefined;
  for (const key of Object.keys(object)) {
    const value = object[key];
    const scrubbed = CREDENTIAL_KEY.test(key)
      ? redactedValue(value, depth)
      : scrub(value, depth + 1);
    if (scrubbed === value) continue;
    copy ??= { ...object };
    copy[key] = scrubbed;
  }
  return copy ?? object;
}

/**
 * Credentials are text: a string, or strings in a list (set-cookie), is replaced; an
 * object under such a name is searched like any other (a volume's `secret` names a
 * Secret), and a flag or a number is kept (automountServiceAccountToken: false).
 * Absent values stay absent: a line that says "[redacted]" for nothing misleads.
 */
function redactedValue(value: unknown, depth: number): unknown {
  if (typeof value === 'string') return value === '' ? value : REDACTED;
  if (Array.isArray(value)) {
    return value.some((item) => typeof item === 'string') ? REDACTED : scrub(value, depth + 1);
  }
  return scrub(value, depth + 1);
}

/** Errors already serialised here: pino's error serialiser must not serialise them again. */
const serialisedErrors = new WeakSet<object>();

function serialisedWithout(error: Error, depth: number): unknown {
  const serialised = scrub(stdSerializers.err(error), depth) as object;
  serialisedErrors.add(serialised);
  return serialised;
}

/** pino's error serialiser, passing through an error this module has already serialised. */
export function serialiseError(value: unknown): unknown {
  if (typeof value === 'object' && value !== null && serialisedErrors.has(value)) return value;
  return stdSerializers.err(value as Error);
}

/**
 * An error's message and stack are not enumerable: they are read here, and so are its
 * causes', which pino's serialiser appends to the message and the stack.
 */
function textHoldsCredential(error: Error): boolean {
  let current: unknown = error;
  for (let depth = 0; depth < MAX_DEPTH && current instanceof Error; depth++) {
    const { message, stack } = current;
    if (withoutCredentialsInText(message) !== message) return true;
    if (stack !== undefined && withoutCredentialsInText(stack) !== stack) return true;
    current = current.cause;
  }
  return false;
}

function holdsCredential(value: object, depth: number): boolean {
  return scrubObject(value as Record<string, unknown>, depth) !== value;
}
