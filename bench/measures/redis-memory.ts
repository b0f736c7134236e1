/**
 * Item 8: Redis bytes per finished migration at steady state, and per migration in
 * flight. Migrations go through the gateway's submission (plan, record, capture job)
 * and the real stage worker wrapper, store and queues, with stand-in stages that write
 * what the real ones write (bench/lib/stand-in-stages.ts), on a redis-server of this
 * measure's own so nothing else moves the figures. The baseline is the information
 * kept: the bytes of each finished record's JSON.
 */
import { Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { Registry } from 'prom-client';

import {
  closeRedis,
  createLogger,
  createRedis,
  createStageMetrics,
  createStageWorker,
  MigrationStore,
  StageQueues,
  submitMigration,
  type StageHandler,
  type StagePayload,
} from '@aso/shared';

import { plannerOverFixtures } from '../../test/support/in-process-api.ts';
import { startRedisServer } from '../../test/support/redis-server.ts';
import { keysUnder } from '../lib/redis-keys.ts';
import { standInStages, type StandIns } from '../lib/stand-in-stages.ts';
import type { BenchContext, Comparison, Section } from '../lib/types.ts';

const PREFIX = 'aso';
/** Migrations submitted at once; the stage workers take them as fast as Redis allows. */
const SUBMIT_BATCH = 25;

interface Footprint {
  /** Sum of MEMORY USAGE (SAMPLES 0: exact) over every key under the prefix. */
  keyBytes: number;
  keys: number;
  /** INFO memory used_memory of the whole (otherwise idle) server. */
  usedMemory: number;
  /** Bytes by kind of key, e.g. "migration", "migration events", "bull:migration-pod". */
  byKind: Map<string, { keys: number; bytes: number }>;
}

class System {
  private readonly workers: Worker<StagePayload>[] = [];
  private readonly finished = new Map<string, () => void>();
  readonly store: MigrationStore;
  readonly queues: StageQueues;
  readonly stages: StandIns;
  private readonly connections: Redis[] = [];
  private readonly url: string;

  constructor(url: string) {
    this.url = url;
    this.store = new MigrationStore(this.connect('store'), PREFIX);
    this.queues = new StageQueues(this.connect('queues'), PREFIX);
    this.stages = standInStages(plannerOverFixtures);
  }

  private connect(name: string): Redis {
    const redis = createRedis(this.url, 'worker', `bench:${name}`) as Redis;
    this.connections.push(redis);
    return redis;
  }

  start(): void {
    const logger = createLogger('bench-redis-memory', 'silent');
    const metrics = createStageMetrics(new Registry());
    const handlers: [StageHandler, number][] = [
      [this.stages.capture, 8],
      [this.stages.pod, 64],
      [this.stages.metrics, 8],
    ];
    for (const [handler, concurrency] of handlers) {
      const worker = createStageWorker({
        handler,
        connection: this.connect(`worker-${handler.stage}`),
        prefix: PREFIX,
        concurrency,
        store: this.store,
        queues: this.queues,
        metrics,
        logger,
      });
      if (handler.stage === 'metrics') {
        worker.on('completed', (job) => {
          this.finished.get(job.data.migrationId)?.();
        });
      }
      this.workers.push(worker);
      void worker.run();
    }
  }

  /** Submits `count` migrations as the gateway does; resolves the ids and when each completes. */
  async submit(count: number, first: number): Promise<{ ids: string[]; done: Promise<void> }> {
    const ids: string[] = [];
    const done: Promise<void>[] = [];
    for (let start = 0; start < count; start += SUBMIT_BATCH) {
      const batch = Array.from(
        { length: Math.min(SUBMIT_BATCH, count - start) },
        (_, i) => first + start + i,
      );
      const created = await Promise.all(
        batch.map((n) =>
          submitMigration(
            { store: this.store, queues: this.queues, planner: plannerOverFixtures },
            {
              pod_name: `tf-train-${n}`,
              pod_namespace: 'default',
              target_node: 'worker-2',
              preserve_pv: false,
              dry_run: false,
              force: false,
              timeout: 600,
            },
          ),
        ),
      );
      for (const { record } of created) {
        ids.push(record.migration_id);
        done.push(new Promise((resolve) => this.finished.set(record.migration_id, resolve)));
      }
    }
    return { ids, done: Promise.all(done).then(() => undefined) };
  }

  async close(): Promise<void> {
    this.stages.release();
    await Promise.all(this.workers.map((worker) => worker.close()));
    await this.queues.close();
    await Promise.all(this.connections.map((redis) => closeRedis(redis)));
  }
}

async function footprint(redis: Redis): Promise<Footprint> {
  const keys = await keysUnder(redis, PREFIX);
  const byKind = new Map<string, { keys: number; bytes: number }>();
  let keyBytes = 0;
  for (const key of keys) {
    const bytes = (await redis.call('MEMORY', 'USAGE', key, 'SAMPLES', '0')) as number | null;
    const kind = kindOf(key);
    const entry = byKind.get(kind) ?? { keys: 0, bytes: 0 };
    entry.keys++;
    entry.bytes += bytes ?? 0;
    byKind.set(kind, entry);
    keyBytes += bytes ?? 0;
  }
  const info = await redis.info('memory');
  const usedMemory = Number(/used_memory:(\d+)/.exec(info)?.[1] ?? Number.NaN);
  return { keyBytes, keys: keys.length, usedMemory, byKind };
}

/** A key's kind: its prefix-relative name with ids and numbers taken out. */
function kindOf(key: string): string {
  return key
    .slice(PREFIX.length + 1)
    .replace(/[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}/g, '<id>')
    .replace(/\/tf-train-\d+/g, '/<pod>')
    .replace(/:\d+$/, ':<n>');
}

async function recordBytes(store: MigrationStore, ids: string[]): Promise<number[]> {
  const sizes: number[] = [];
  for (const id of ids) {
    const record = await store.require(id);
    sizes.push(Buffer.byteLength(JSON.stringify(record)));
  }
  return sizes;
}

export default async function redisMemory(context: BenchContext): Promise<Section> {
  const server = await startRedisServer();
  const system = new System(server.url);
  const probe = new Redis(server.url, { maxRetriesPerRequest: 1 });
  // Multiples of 4: the 3N migrations between N and 4N go in 12 equal chunks.
  const n = context.quick ? 40 : 240;
  const chunk = n / 4;
  const heldCount = context.quick ? 5 : 20;
  const holdRounds = context.quick ? 2 : 5;

  try {
    system.start();
    context.log(`redis-memory: ${n} migrations, then ${3 * n} more in chunks of ${chunk}`);
    let next = 0;
    const run = async (count: number) => {
      const submitted = await system.submit(count, next);
      next += count;
      await submitted.done;
      return submitted.ids;
    };

    await run(n);
    const atN = await footprint(probe);
    const slopes: number[] = [];
    const usedSlopes: number[] = [];
    const jsonBytes: number[] = [];
    let before = atN;
    for (let i = 0; i < 12; i++) {
      const ids = await run(chunk);
      const after = await footprint(probe);
      slopes.push((after.keyBytes - before.keyBytes) / chunk);
      usedSlopes.push((after.usedMemory - before.usedMemory) / chunk);
      jsonBytes.push(...(await recordBytes(system.store, ids)));
      before = after;
    }
    const at4N = before;

    context.log(
      `redis-memory: in-flight peak, ${holdRounds} rounds of ${heldCount} migrations held`,
    );
    const inFlight = await inFlightPeak(
      context,
      system,
      probe,
      heldCount,
      holdRounds,
      () => next++,
    );

    return section(context, { n, atN, at4N, slopes, usedSlopes, jsonBytes, inFlight, heldCount });
  } finally {
    await system.close();
    await probe.quit();
    await server.stop();
  }
}

interface InFlight {
  perMigration: number[];
  jsonBytes: number[];
  keysPerMigration: number[];
}

/**
 * Holds migrations in the pod stage (the middle of a migration: capture done, the
 * switch under way) and counts what they keep meanwhile, above the idle footprint.
 */
async function inFlightPeak(
  context: BenchContext,
  system: System,
  probe: Redis,
  count: number,
  rounds: number,
  nextIndex: () => number,
): Promise<InFlight> {
  const result: InFlight = { perMigration: [], jsonBytes: [], keysPerMigration: [] };
  for (let round = 0; round < rounds; round++) {
    const idle = await footprint(probe);
    system.stages.hold();
    const first = nextIndex();
    for (let i = 1; i < count; i++) nextIndex();
    const submitted = await system.submit(count, first);
    await until(
      () => system.stages.held() === count,
      30_000,
      'migrations to reach the held pod stage',
    );

    const peak = await footprint(probe);
    result.perMigration.push((peak.keyBytes - idle.keyBytes) / count);
    result.keysPerMigration.push((peak.keys - idle.keys) / count);
    result.jsonBytes.push(...(await recordBytes(system.store, submitted.ids)));
    system.stages.release();
    await submitted.done;
    context.log(`redis-memory: in-flight round ${round + 1} of ${rounds} done`);
  }
  return result;
}

async function until(check: () => boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    // Stage workers hold in-process promises; nothing in Redis to block on.
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

interface Figures {
  n: number;
  atN: Footprint;
  at4N: Footprint;
  slopes: number[];
  usedSlopes: number[];
  jsonBytes: number[];
  inFlight: InFlight;
  heldCount: number;
}

function section(context: BenchContext, figures: Figures): Section {
  const { n, atN, at4N } = figures;
  const keySlope = (at4N.keyBytes - atN.keyBytes) / (3 * n);
  const usedSlope = (at4N.usedMemory - atN.usedMemory) / (3 * n);
  const finished: Comparison = {
    id: 'redis-memory.finished',
    title: 'Redis bytes per finished migration',
    unit: 'bytes',
    better: 'lower',
    subject: {
      label: `MEMORY USAGE of the product's keys, added per migration (12 chunks of ${n / 4}, from ${n} to ${4 * n})`,
      samples: figures.slopes,
    },
    baseline: {
      label: "the finished record's JSON (the information kept)",
      samples: figures.jsonBytes,
    },
    notes: [
      `Slope from ${n} to ${4 * n} finished migrations: ${Math.round(keySlope)} bytes/migration by MEMORY USAGE ` +
        `of the keys, ${Math.round(usedSlope)} by INFO used_memory of the whole server (own redis-server).`,
      "Completed stage jobs are kept up to 1000 per queue for an hour (stageJobOptions' removeOnComplete): " +
        `at ${4 * n} migrations they are all still there, so the slope includes them; past 1000 an hour only ` +
        'the record, its event log and its index entries stay, for the retention time (7 days by default).',
      'The stages are stand-ins writing what the real ones write (plan of the fixture pod, its manifest, ' +
        'container states, resources, new-pod fields and events) inside the real stage worker, store and queues.',
    ],
  };
  const inFlight: Comparison = {
    id: 'redis-memory.in-flight',
    title: 'Redis bytes per migration in flight (peak)',
    unit: 'bytes',
    better: 'lower',
    subject: {
      label: `MEMORY USAGE added per migration, ${figures.heldCount} held in the pod stage at once`,
      samples: figures.inFlight.perMigration,
    },
    baseline: { label: "the in-flight record's JSON", samples: figures.inFlight.jsonBytes },
    notes: [
      `Keys per migration in flight: ${figures.inFlight.keysPerMigration.map((k) => k.toFixed(1)).join(', ')} ` +
        '(one sample per round).',
    ],
  };
  const rows = [...at4N.byKind.entries()]
    .sort((a, b) => b[1].bytes - a[1].bytes)
    .map(([kind, entry]) => [kind, entry.keys, entry.bytes, Math.round(entry.bytes / (4 * n))]);
  context.log(`redis-memory: ${Math.round(keySlope)} bytes per finished migration`);
  return {
    item: 8,
    title: 'Redis memory per migration',
    comparisons: [finished, inFlight],
    series: [
      {
        id: 'redis-memory.keys',
        title: `Keys under the prefix after ${4 * n} finished migrations, by kind`,
        columns: ['key', 'keys', 'bytes (MEMORY USAGE)', 'bytes per migration'],
        rows,
      },
      {
        id: 'redis-memory.totals',
        title: 'Totals',
        columns: ['finished migrations', 'keys', 'bytes of keys', 'used_memory'],
        rows: [
          [n, atN.keys, atN.keyBytes, atN.usedMemory],
          [4 * n, at4N.keys, at4N.keyBytes, at4N.usedMemory],
        ],
      },
    ],
  };
}
