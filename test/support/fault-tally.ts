import type { CoreV1Api, V1PersistentVolumeClaim, V1Pod } from '@kubernetes/client-node';

import { expect } from 'vitest';

import type { MigrationRecord, MigrationStore } from '@aso/shared';

import { eventually } from '../setup/kube.ts';

/** Label every pod of a fault test carries (and its new pod copies): its workload. */
export const WORKLOAD_LABEL = 'faults.aso.dev/workload';

/** What one migration left behind once it ended and the cluster settled. */
export interface MigrationVerdict {
  record: MigrationRecord | null;
  /** Live pods of the workload: exactly one is right. */
  pods: V1Pod[];
  /** Checkpoint claims of the workload no live pod mounts. */
  leakedClaims: string[];
}

/**
 * Counts, for the log line the README quotes, the faults a test file injected and
 * what the migrations it ran left behind. Every figure but the first two must be 0.
 */
export class FaultTally {
  private readonly file: string;
  private faults = 0;
  private migrations = 0;
  private completed = 0;
  private rolledBack = 0;
  private podsLost = 0;
  private podsDuplicated = 0;
  private claimsLeaked = 0;
  private recordsLost = 0;

  constructor(file: string) {
    this.file = file;
  }

  fault(count = 1): void {
    this.faults += count;
  }

  record(verdict: MigrationVerdict): void {
    this.migrations += 1;
    if (verdict.record === null) this.recordsLost += 1;
    if (verdict.record?.status === 'completed') this.completed += 1;
    if (verdict.record?.status === 'failed' && verdict.record.error?.rolled_back) {
      this.rolledBack += 1;
    }
    if (verdict.pods.length === 0) this.podsLost += 1;
    if (verdict.pods.length > 1) this.podsDuplicated += verdict.pods.length - 1;
    this.claimsLeaked += verdict.leakedClaims.length;
  }

  line(): string {
    return (
      `faults: file=${this.file} faults_injected=${this.faults} migrations=${this.migrations} ` +
      `completed=${this.completed} rolled_back=${this.rolledBack} pods_lost=${this.podsLost} ` +
      `pods_duplicated=${this.podsDuplicated} claims_leaked=${this.claimsLeaked} ` +
      `records_lost=${this.recordsLost}`
    );
  }

  print(): void {
    process.stdout.write(`${this.line()}\n`);
  }
}

/**
 * Waits until nothing of the workload is terminating any more, then reads what is
 * left: its live pods and the checkpoint claims none of them mounts.
 */
export async function settledOutcome(
  core: CoreV1Api,
  store: MigrationStore,
  namespace: string,
  workload: string,
  migrationId: string,
): Promise<MigrationVerdict> {
  const { pods, claims } = await eventually(
    async () => {
      const found = await workloadObjects(core, namespace, workload);
      const leaving = [...found.pods, ...found.claims].some((o) => o.metadata?.deletionTimestamp);
      return leaving ? undefined : found;
    },
    { timeoutMs: 60_000, what: `workload ${workload} to settle` },
  );

  const mounted = new Set(
    pods.flatMap((pod) =>
      (pod.spec?.volumes ?? []).flatMap((v) => v.persistentVolumeClaim?.claimName ?? []),
    ),
  );
  return {
    record: await store.get(migrationId),
    pods,
    leakedClaims: claims
      .map((claim) => claim.metadata?.name ?? '')
      .filter((name) => !mounted.has(name)),
  };
}

async function workloadObjects(
  core: CoreV1Api,
  namespace: string,
  workload: string,
): Promise<{ pods: V1Pod[]; claims: V1PersistentVolumeClaim[] }> {
  const [pods, claims] = await Promise.all([
    core.listNamespacedPod({ namespace, labelSelector: `${WORKLOAD_LABEL}=${workload}` }),
    core.listNamespacedPersistentVolumeClaim({
      namespace,
      labelSelector: 'aso.dev/checkpoint=true',
    }),
  ]);
  return {
    pods: pods.items,
    claims: claims.items.filter((claim) => claim.metadata?.name === `${workload}-checkpoint`),
  };
}

/**
 * Counts a migration that ended and checks what it left: its record, exactly one
 * pod of the workload (the new one on the target when it completed, the original
 * when it was rolled back) and no checkpoint claim without a pod.
 */
export async function expectSettled(
  tally: FaultTally,
  core: CoreV1Api,
  store: MigrationStore,
  original: V1Pod,
  migrationId: string,
): Promise<MigrationRecord> {
  const namespace = original.metadata?.namespace ?? '';
  const name = original.metadata?.name ?? '';
  const verdict = await settledOutcome(core, store, namespace, name, migrationId);
  tally.record(verdict);

  expect(verdict.record, 'record lost').not.toBeNull();
  const record = verdict.record as MigrationRecord;
  expect(verdict.pods.map((p) => p.metadata?.name)).toHaveLength(1);
  expect(verdict.leakedClaims).toEqual([]);
  const [survivor] = verdict.pods;
  if (record.status === 'completed') {
    expect(survivor?.metadata?.name).toBe(record.details.new_pod_name);
    expect(survivor?.metadata?.uid).toBe(record.details.new_pod_uid);
    expect(survivor?.spec?.nodeName).toBe(record.request.target_node);
  } else {
    // The original itself, or (break-before-make) the original created again.
    expect(record.error?.rolled_back).toBe(true);
    expect(survivor?.metadata?.name).toBe(name);
    expect(survivor?.spec?.nodeName).toBe(record.request.source_node);
  }
  return record;
}
