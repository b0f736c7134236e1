/**
 * Item 4: stage hand-off latency, from a stage's job being added to its queue to the
 * stage's work starting, in the product (StageQueues.enqueue and the stage worker
 * wrapper around a no-op stage) against a bare BullMQ Queue.add and Worker round trip
 * on the same Redis. One job at a time, so the figure is latency, not queueing.
 */
import { randomUUID } from 'node:crypto';

import { Queue, Worker } from 'bullmq';
import { Registry } from 'prom-client';

import {
  closeRedis,
  createLogger,
  createRedis,
  createStageMetrics,
  MigrationStore,
  newMigrationRecord,
  StageQueues,
  createStageWorker,
  type MigrationRequest,
} from '@aso/shared';

import { interleave } from '../lib/interleave.ts';
import { benchPrefix, removePrefixes } from '../lib/redis-keys.ts';
import type { BenchContext, Section } from '../lib/types.ts';

const REQUEST: MigrationRequest = {
  pod_name: 'bench-handoff',
  pod_namespace: 'default',
  source_node: 'worker-1',
  target_node: 'worker-2',
  preserve_pv: false,
  dry_run: false,
  force: false,
  timeout: 600,
};

/** Resolves the next pick-up with the monotonic time it happened, in ms. */
class PickUps {
  private waiting: ((atMs: number) => void) | undefined;

  next(): Promise<number> {
    return new Promise((resolve) => {
      this.waiting = resolve;
    });
  }

  seen(): void {
    this.waiting?.(now());
    this.waiting = undefined;
  }
}

function now(): number {
  return performance.now();
}

/** The product: a record in the store, StageQueues.enqueue, the stage worker wrapper. */
async function productSide(redisUrl: string, prefix: string) {
  const connections = [
    createRedis(redisUrl, 'store', 'bench:store'),
    createRedis(redisUrl, 'producer', 'bench:queues'),
    createRedis(redisUrl, 'worker', 'bench:worker'),
  ] as const;
  const store = new MigrationStore(connections[0], prefix);
  const queues = new StageQueues(connections[1], prefix);
  const pickUps = new PickUps();
  const finished = new PickUps();
  const worker = createStageWorker({
    handler: {
      stage: 'metrics',
      honoursDeadline: false,
      run: () => {
        pickUps.seen();
        return Promise.resolve({});
      },
    },
    connection: connections[2],
    prefix,
    concurrency: 1,
    store,
    queues,
    metrics: createStageMetrics(new Registry()),
    logger: createLogger('bench-handoff', 'silent'),
  });
  worker.on('completed', () => {
    finished.seen();
  });
  void worker.run();
  await worker.waitUntilReady();

  const once = async (round: number) => {
    const id = randomUUID();
    const record = newMigrationRecord(
      id,
      { ...REQUEST, pod_name: `bench-handoff-${round}` },
      new Date(),
    );
    await store.create(record);
    const picked = pickUps.next();
    const done = finished.next();

    const start = now();
    await queues.enqueue('metrics', id);
    const latency = (await picked) - start;
    await done;
    return latency;
  };
  const close = async () => {
    await worker.close();
    await queues.close();
    await Promise.all(connections.map((redis) => closeRedis(redis)));
  };
  return { once, close };
}

/** The baseline: a bare Queue.add and a Worker whose processor does nothing. */
async function bareSide(redisUrl: string, prefix: string) {
  const connections = [
    createRedis(redisUrl, 'producer', 'bench:bare-queue'),
    createRedis(redisUrl, 'worker', 'bench:bare-worker'),
  ] as const;
  const queue = new Queue('bare', { connection: connections[0], prefix });
  const pickUps = new PickUps();
  const finished = new PickUps();
  const worker = new Worker(
    'bare',
    () => {
      pickUps.seen();
      return Promise.resolve();
    },
    { connection: connections[1], prefix, concurrency: 1 },
  );
  worker.on('completed', () => {
    finished.seen();
  });
  await worker.waitUntilReady();

  const once = async () => {
    const picked = pickUps.next();
    const done = finished.next();

    const start = now();
    await queue.add('job', { migrationId: randomUUID() });
    const latency = (await picked) - start;
    await done;
    return latency;
  };
  const close = async () => {
    await worker.close();
    await queue.close();
    await Promise.all(connections.map((redis) => closeRedis(redis)));
  };
  return { once, close };
}

export default async function handoff(context: BenchContext): Promise<Section> {
  const prefixes = [benchPrefix('handoff'), benchPrefix('handoff-bare')];
  const [productPrefix = '', barePrefix = ''] = prefixes;
  const warmup = context.quick ? 5 : 50;
  const rounds = context.quick ? 20 : 400;
  // Whatever started is closed and its keys removed, even when the other side fails to start.
  const started: { close(): Promise<void> }[] = [];

  try {
    const product = await productSide(context.redisUrl, productPrefix);
    started.push(product);
    const bare = await bareSide(context.redisUrl, barePrefix);
    started.push(bare);
    context.log(`handoff: ${warmup} warm-up and ${rounds} measured rounds`);
    const result = await interleave(product.once, bare.once, { warmup, rounds });
    return {
      item: 4,
      title: 'Stage hand-off latency',
      comparisons: [
        {
          id: 'handoff.latency',
          title: 'Stage hand-off: enqueue to pick-up',
          unit: 'ms',
          better: 'lower',
          subject: {
            label: 'StageQueues.enqueue to a no-op stage starting (stage worker)',
            samples: result.a,
          },
          baseline: { label: 'bare Queue.add to a Worker processor starting', samples: result.b },
          warmupRounds: result.warmupRounds,
          notes: [
            'One job at a time on the shared Redis, each side with its own prefix and an idle worker (concurrency 1).',
            "The product's pick-up includes what the stage worker does before a stage runs: reading the record, " +
              'marking the stage started (a WATCH/MULTI update) and starting the cancel watch.',
            'Clock: performance.now() in one process, taken just before the add and inside the processor.',
          ],
        },
      ],
    };
  } finally {
    for (const side of started) await side.close();
    await removePrefixes(context.redisUrl, prefixes);
  }
}
