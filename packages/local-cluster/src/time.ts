/**
 * Kubernetes timestamps travel as RFC 3339 strings with whole seconds (metav1.Time).
 * Objects read through the typed client arrive as Date instances, while objects from a
 * watch stream stay raw JSON strings, so readers here accept both.
 */
export type ApiTime = Date | string | undefined | null;

export function toMillis(value: ApiTime): number | undefined {
  if (value === undefined || value === null) {
    return undefined;
  }

  const millis = value instanceof Date ? value.getTime() : Date.parse(value);
  return Number.isNaN(millis) ? undefined : millis;
}

/** Formats like metav1.Time: UTC, second precision (the apiserver truncates anyway). */
export function formatApiTime(millis: number): string {
  return new Date(Math.floor(millis / 1000) * 1000).toISOString().replace('.000Z', 'Z');
}
