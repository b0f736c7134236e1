import type { Logger } from './logger.ts';
import type { MigrationStore } from './migration-store.ts';
import { STAGES } from './migration.ts';
import type { StageQueues } from './stage-queues.ts';

export interface OrphanSweepOptions {
  store: MigrationStore;
  queues: StageQueues;
  logger: Logger;
  /** How often to look, in ms. */
  intervalMs: number;
  /** A pending record younger than this may still be on its way to the queue, in ms. */
  minAgeMs: number;
}

/** How far back a sweep looks: a migration's timeout is at most an hour. */
const SWEEP_HORIZON_MS = 24 * 3600 * 1000;

/**
 * The gateway stores a record, then queues its first job. A gateway that dies in
 * between leaves a pending migration that nothing works on and that holds its pod's
 * lock. The entry stage's workers look for such records now and then and queue the
 * missing job; the job id is the migration id, so replicas sweeping at once, or a
 * job that does exist, never make a second one.
 */
export function startOrphanSweep(options: OrphanSweepOptions): () => Promise<void> {
  let running: Promise<void> = Promise.resolve();

  const timer = setInterval(() => {
    running = sweepOnce(options).then(
      () => undefined,
      (err: unknown) => {
        options.logger.warn({ err }, 'orphan sweep failed; trying again later');
      },
    );
  }, options.intervalMs);
  timer.unref();

  return async () => {
    clearInterval(timer);
    await running;
  };
}

/** Queues the first job of every pending migration that has none; returns their ids. */
export async function sweepOnce(options: OrphanSweepOptions): Promise<string[]> {
  const now = Date.now();
  const pending = await options.store.pendingBetween(
    now - SWEEP_HORIZON_MS,
    now - options.minAgeMs,
  );
  const entry = STAGES[0];
  const requeued: string[] = [];

  for (const record of pending) {
    const id = record.migration_id;
    if (await options.queues.queue(entry).getJob(id)) continue;

    await options.queues.enqueue(entry, id);
    requeued.push(id);
    options.logger.warn(
      {
        migrationId: id,
        namespace: record.request.pod_namespace,
        pod: record.request.pod_name,
      },
      'queued the first job of a migration the gateway had stored but not queued',
    );
  }
  return requeued;
}
