import { meetsSetRequirement, ValidationError } from '@aso/shared';

/**
 * Kubernetes label selectors, as `kubectl get -l` and the API's labelSelector
 * parameter take them: comma-separated requirements, each `key=value`,
 * `key==value`, `key!=value`, `key in (a,b)`, `key notin (a,b)`, `key` or `!key`.
 * Parsed here so that a malformed selector is a 400 naming the requirement, not a
 * Kubernetes error, and so that the selector can be matched and shown as one
 * canonical string.
 * See https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#label-selectors
 */
export interface LabelRequirement {
  key: string;
  operator: 'In' | 'NotIn' | 'Exists' | 'DoesNotExist';
  values: string[];
}

// https://kubernetes.io/docs/concepts/overview/working-with-objects/labels/#syntax-and-character-set
const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const PREFIX = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^([A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?)?$/;

const SET_FORM = /^([^\s!=(),]+)\s+(in|notin)\s*\(([^()]*)\)$/;
const EQUALITY_FORM = /^([^\s!=(),]+)\s*(==|=|!=)\s*([^\s!=(),]*)$/;
const EXISTS_FORM = /^(!?)\s*([^\s!=(),]+)$/;

/** Parses a selector string; throws a ValidationError under `field` naming what is wrong. */
export function parseLabelSelector(selector: string, field = 'selector'): LabelRequirement[] {
  const parts = splitRequirements(selector);
  if (parts.length === 0) throw invalid(field, 'the selector is empty');
  return parts.map((part) => parseRequirement(part, field));
}

/** matchLabels as requirements: each key In its one value. */
export function matchLabelsRequirements(
  labels: Record<string, string>,
  field = 'match_labels',
): LabelRequirement[] {
  return Object.entries(labels).map(([key, value]) => {
    checkKey(key, field);
    checkValue(value, field);
    return { key, operator: 'In', values: [value] };
  });
}

/** Whether an object with `labels` meets every requirement (the requirements are ANDed). */
export function matchesLabels(
  requirements: LabelRequirement[],
  labels: Record<string, string> | undefined,
): boolean {
  return requirements.every((r) => meetsSetRequirement(r.operator, labels?.[r.key], r.values));
}

/** The selector as the Kubernetes API's labelSelector parameter takes it. */
export function formatLabelSelector(requirements: LabelRequirement[]): string {
  return requirements.map(formatRequirement).join(',');
}

function formatRequirement(requirement: LabelRequirement): string {
  const { key, operator, values } = requirement;
  switch (operator) {
    case 'Exists':
      return key;
    case 'DoesNotExist':
      return `!${key}`;
    case 'In':
      return values.length === 1 ? `${key}=${values[0] ?? ''}` : `${key} in (${values.join(',')})`;
    case 'NotIn':
      return values.length === 1
        ? `${key}!=${values[0] ?? ''}`
        : `${key} notin (${values.join(',')})`;
  }
}

/** Splits on the commas that separate requirements, not those inside a set's parentheses. */
function splitRequirements(selector: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let current = '';
  for (const char of selector) {
    if (char === '(') depth++;
    if (char === ')') depth--;
    if (char === ',' && depth === 0) {
      parts.push(current.trim());
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current.trim());
  return parts.length === 1 && parts[0] === '' ? [] : parts;
}

function parseRequirement(part: string, field: string): LabelRequirement {
  if (part === '') throw invalid(field, 'the selector has an empty requirement (two commas)');

  const set = SET_FORM.exec(part);
  if (set) {
    const [, key = '', operator, list = ''] = set;
    const values = list.split(',').map((value) => value.trim());
    if (values.length === 1 && values[0] === '') {
      throw invalid(field, `"${part}" names no values inside the parentheses`);
    }
    checkKey(key, field);
    for (const value of values) checkValue(value, field);
    return { key, operator: operator === 'in' ? 'In' : 'NotIn', values };
  }

  const equality = EQUALITY_FORM.exec(part);
  if (equality) {
    const [, key = '', operator, value = ''] = equality;
    checkKey(key, field);
    checkValue(value, field);
    return { key, operator: operator === '!=' ? 'NotIn' : 'In', values: [value] };
  }

  const exists = EXISTS_FORM.exec(part);
  if (exists) {
    const [, negated, key = ''] = exists;
    checkKey(key, field);
    return { key, operator: negated ? 'DoesNotExist' : 'Exists', values: [] };
  }
  throw invalid(
    field,
    `"${part}" is not a label requirement; use key=value, key!=value, key in (a,b), ` +
      'key notin (a,b), key or !key',
  );
}

/** A key is an optional DNS subdomain prefix of at most 253 characters, a slash, and a name. */
function checkKey(key: string, field: string): void {
  const slash = key.lastIndexOf('/');
  const prefix = slash === -1 ? null : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);

  if (prefix !== null && (prefix.length > 253 || !PREFIX.test(prefix))) {
    throw invalid(
      field,
      `the label key "${key}" has an invalid prefix: it must be a DNS subdomain`,
    );
  }
  if (!NAME.test(name)) {
    throw invalid(
      field,
      `the label key "${key}" is invalid: its name must be 1 to 63 letters, digits, '-', '_' ` +
        "or '.', starting and ending with a letter or digit",
    );
  }
}

function checkValue(value: string, field: string): void {
  if (!VALUE.test(value)) {
    throw invalid(
      field,
      `the label value "${value}" is invalid: at most 63 letters, digits, '-', '_' or '.', ` +
        'starting and ending with a letter or digit',
    );
  }
}

function invalid(field: string, message: string): ValidationError {
  return new ValidationError(`the ${field} is invalid: ${message}`, [{ field, message }]);
}
