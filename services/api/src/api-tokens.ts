import { createHash, timingSafeEqual } from 'node:crypto';
import { readFileSync } from 'node:fs';

import { ConfigError } from '@aso/shared';

export type TokenAccess = 'read-write' | 'read-only';

/** A configured bearer token, known by its SHA-256 digest only. */
export interface ApiToken {
  access: TokenAccess;
  /** Where it was configured ("ASO_API_TOKENS entry 2"): safe to log, unlike the token. */
  name: string;
  /** A hash of the token, to key per-token counters in Redis without storing the token. */
  id: string;
  digest: Buffer;
}

/** Shorter tokens could be guessed; 16 characters of base64 are 96 bits. */
export const MIN_TOKEN_LENGTH = 16;

/** RFC 6750's b64token: what fits in an Authorization header without quoting. */
const TOKEN_PATTERN = /^[A-Za-z0-9._~+/-]+=*$/;
const ENTRY_PATTERN = /^(read-write|read-only):(.*)$/;

export interface TokenSources {
  ASO_API_TOKENS?: string | undefined;
  ASO_API_TOKENS_FILE?: string | undefined;
}

/**
 * Reads the tokens from the environment and the token file. Every malformed entry
 * fails the start, naming the entry but never showing its text, which may be a token.
 */
export function loadApiTokens(sources: TokenSources): ApiTokens {
  const entries: Entry[] = [];
  if (sources.ASO_API_TOKENS !== undefined) entries.push(...envEntries(sources.ASO_API_TOKENS));
  if (sources.ASO_API_TOKENS_FILE !== undefined)
    entries.push(...fileEntries(sources.ASO_API_TOKENS_FILE));

  if (entries.length === 0) {
    throw new ConfigError(
      'no API token is configured: set ASO_API_TOKENS or ASO_API_TOKENS_FILE ' +
        '(entries "read-write:<token>" or "read-only:<token>")',
    );
  }
  return new ApiTokens(parseEntries(entries));
}

/** The configured tokens; a presented token is compared with each in constant time. */
export class ApiTokens {
  readonly tokens: readonly ApiToken[];

  constructor(tokens: readonly ApiToken[]) {
    this.tokens = tokens;
  }

  /**
   * The configured token equal to `presented`, if any. Both sides are hashed first,
   * so the comparison has a fixed length, and every token is compared, so the time
   * taken does not tell whether, or which, one matched.
   */
  identify(presented: string): ApiToken | undefined {
    const digest = sha256(presented);

    let match: ApiToken | undefined;
    for (const token of this.tokens) {
      const same = timingSafeEqual(digest, token.digest);
      if (same && match === undefined) match = token;
    }
    return match;
  }

  count(access: TokenAccess): number {
    return this.tokens.filter((token) => token.access === access).length;
  }
}

interface Entry {
  name: string;
  text: string;
}

function envEntries(value: string): Entry[] {
  return value
    .split(',')
    .map((text, index) => ({ name: `ASO_API_TOKENS entry ${index + 1}`, text: text.trim() }))
    .filter((entry) => entry.text !== '');
}

/** One entry a line, as a Kubernetes Secret is mounted; blank lines and # comments are skipped. */
function fileEntries(path: string): Entry[] {
  let content: string;
  try {
    content = readFileSync(path, 'utf8');
  } catch (error) {
    const reason = error instanceof Error && 'code' in error ? String(error.code) : 'unreadable';
    throw new ConfigError(`ASO_API_TOKENS_FILE ${path} cannot be read (${reason})`);
  }

  // "#" cannot occur in a token, so everything after it is a comment.
  return content
    .split('\n')
    .map((line, index) => ({
      name: `ASO_API_TOKENS_FILE line ${index + 1}`,
      text: line.replace(/#.*$/, '').trim(),
    }))
    .filter((entry) => entry.text !== '');
}

function parseEntries(entries: Entry[]): ApiToken[] {
  const tokens: ApiToken[] = [];
  const seen = new Set<string>();

  for (const entry of entries) {
    const token = parseEntry(entry);
    if (seen.has(token.id)) {
      throw new ConfigError(`${entry.name} repeats a token configured earlier; list each once`);
    }
    seen.add(token.id);
    tokens.push(token);
  }
  return tokens;
}

function parseEntry({ name, text }: Entry): ApiToken {
  const match = ENTRY_PATTERN.exec(text);
  if (!match) {
    throw new ConfigError(
      `${name} is malformed: write it as "read-write:<token>" or "read-only:<token>"`,
    );
  }

  const access = match[1] as TokenAccess;
  const secret = match[2] ?? '';
  if (secret.length < MIN_TOKEN_LENGTH) {
    throw new ConfigError(
      `${name} has a token shorter than ${MIN_TOKEN_LENGTH} characters; ` +
        'generate one with: openssl rand -base64 32',
    );
  }
  if (!TOKEN_PATTERN.test(secret)) {
    throw new ConfigError(
      `${name} has a token with characters a bearer token cannot carry; ` +
        'use letters, digits and "-._~+/" (base64 or base64url)',
    );
  }

  const digest = sha256(secret);
  return { access, name, id: digest.toString('hex').slice(0, 32), digest };
}

function sha256(text: string): Buffer {
  return createHash('sha256').update(text, 'utf8').digest();
}
