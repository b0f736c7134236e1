import { createHash } from 'node:crypto';

/** Longest pod name we produce: pods double as hostnames, which are DNS labels. */
export const MAX_POD_NAME_LENGTH = 63;

const MIGRATION_SUFFIX = /-m[0-9a-f]{6}$/;

/**
 * The workload a pod belongs to: its name without the suffix an earlier
 * migration added, so that names do not grow with every move.
 */
export function workloadName(podName: string): string {
  return podName.replace(MIGRATION_SUFFIX, '');
}

/** `<workload>-m<6 hex of the migration id>`, cut to stay within 63 characters. */
export function newPodName(podName: string, migrationId: string): string {
  const suffix = `-m${migrationId.replace(/-/g, '').slice(0, 6)}`;
  const base = trimName(workloadName(podName), MAX_POD_NAME_LENGTH - suffix.length);
  return `${base}${suffix}`;
}

/** The checkpoint claim of a workload: every migration of it reuses the same claim. */
export function checkpointClaimName(podName: string): string {
  return `${trimName(workloadName(podName), MAX_POD_NAME_LENGTH - '-checkpoint'.length)}-checkpoint`;
}

/** A label value (at most 63 characters) that identifies a workload by name. */
export function workloadLabel(podName: string): string {
  const workload = workloadName(podName);
  if (workload.length <= MAX_POD_NAME_LENGTH) return workload;

  const digest = createHash('sha256').update(workload).digest('hex').slice(0, 10);
  return `${trimName(workload, MAX_POD_NAME_LENGTH - 11)}-${digest}`;
}

function trimName(name: string, max: number): string {
  // A name must end in a letter or digit after the cut.
  return name.slice(0, max).replace(/[-.]+$/, '');
}
