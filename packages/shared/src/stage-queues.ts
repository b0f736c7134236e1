import { Queue } from 'bullmq';
import { Cluster } from 'ioredis';

import { ConfigError } from './errors.ts';
import type { Logger } from './logger.ts';
import type { Stage } from './migration.ts';
import { QUEUE_NAMES, stageJobOptions, type StagePayloads } from './queues.ts';
import type { RedisClient } from './redis.ts';
import { hasHashTag } from './redis-topology.ts';

/**
 * Approximate length each queue's event stream is trimmed to. Nothing here reads
 * the events (no QueueEvents); the cap only bounds Redis memory. BullMQ keeps it in
 * the queue's meta hash, so the workers' scripts trim to the same length.
 */
export const QUEUE_EVENTS_MAX_LEN = 1_000;

/** Producer side of the stage queues: how the gateway and the workers hand a migration on. */
export class StageQueues {
  private readonly queues: Record<Stage, Queue<StagePayloads[Stage]>>;

  constructor(connection: RedisClient, prefix: string, logger?: Logger) {
    requireClusterSafePrefix(connection, prefix);

    const open = (stage: Stage) => {
      const queue = new Queue<StagePayloads[Stage]>(QUEUE_NAMES[stage], {
        connection,
        prefix,
        streams: { events: { maxLen: QUEUE_EVENTS_MAX_LEN } },
      });
      // BullMQ prints connection errors of a queue without an error listener.
      queue.on('error', (err) => {
        logger?.warn({ err, queue: queue.name }, 'queue connection error');
      });
      return queue;
    };
    this.queues = { capture: open('capture'), pod: open('pod'), metrics: open('metrics') };
  }

  async enqueue(stage: Stage, migrationId: string, delayMs = 0): Promise<void> {
    await this.queues[stage].add(stage, { migrationId }, stageJobOptions(migrationId, delayMs));
  }

  queue(stage: Stage): Queue<StagePayloads[Stage]> {
    return this.queues[stage];
  }

  async close(): Promise<void> {
    await Promise.all(Object.values(this.queues).map((queue) => queue.close()));
  }
}

/**
 * On Redis Cluster BullMQ's scripts fail with CROSSSLOT unless all keys of a queue
 * share a hash slot; the prefix's hash tag guarantees that (config refuses an
 * untagged prefix too; this catches connections built by hand).
 */
function requireClusterSafePrefix(connection: RedisClient, prefix: string): void {
  if (!(connection instanceof Cluster) || hasHashTag(prefix)) return;
  throw new ConfigError(
    `key prefix "${prefix}" has no hash tag; on Redis Cluster use one such as "{${prefix}}"`,
  );
}
