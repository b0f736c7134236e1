import { createHash } from 'node:crypto';

/** Longest pod name we produce: pods double as hostnames, which are DNS labels. */
export const MAX_POD_NAME_LENGTH = 63;

/**
 * `<workload>-m<6 hex of the migration id>`, cut to stay within 63 characters. The
 * workload (not the current pod name) is the base, so names do not grow with moves.
 */
export function newPodName(workload: string, migrationId: string): string {
  const suffix = `-m${migrationId.replace(/-/g, '').slice(0, 6)}`;
  const base = trimName(workload, MAX_POD_NAME_LENGTH - suffix.length);
  return `${base}${suffix}`;
}

/** The checkpoint claim of a workload: every migration of it reuses the same claim. */
export function checkpointClaimName(workload: string): string {
  return `${trimName(workload, MAX_POD_NAME_LENGTH - '-checkpoint'.length)}-checkpoint`;
}

/** A label value (at most 63 characters) that identifies a workload by name. */
export function workloadLabel(workload: string): string {
  if (workload.length <= MAX_POD_NAME_LENGTH) return workload;

  const digest = createHash('sha256').update(workload).digest('hex').slice(0, 10);
  return `${trimName(workload, MAX_POD_NAME_LENGTH - 11)}-${digest}`;
}

function trimName(name: string, max: number): string {
  // A name must end in a letter or digit after the cut.
  return name.slice(0, max).replace(/[-.]+$/, '');
}
