import { Queue } from 'bullmq';
import type { Redis } from 'ioredis';

import type { Logger } from './logger.ts';
import type { Stage } from './migration.ts';
import { QUEUE_NAMES, stageJobOptions, type StagePayloads } from './queues.ts';

/** Producer side of the stage queues: how the gateway and the workers hand a migration on. */
export class StageQueues {
  private readonly queues: Record<Stage, Queue<StagePayloads[Stage]>>;

  constructor(connection: Redis, prefix: string, logger?: Logger) {
    const open = (stage: Stage) => {
      const queue = new Queue<StagePayloads[Stage]>(QUEUE_NAMES[stage], { connection, prefix });
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
