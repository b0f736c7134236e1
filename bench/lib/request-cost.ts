/**
 * What a request costs the thread that serves it and Redis, from CPU times read
 * around each window of load: this process's main thread (where the in-process
 * gateway and the bare queue.add loop run; the load generator has a thread of its
 * own) from /proc, and Redis' main thread from INFO cpu. Both count everything done
 * during the window, so a side's figure is its whole cost per request, idle work
 * included; ticks of 10 ms are small against windows of seconds.
 */
import type { RedisClient } from '@aso/shared';

import { mainThreadCpuSeconds } from '../support/proc-cpu.ts';
import { percentile } from './stats.ts';

interface CostWindow {
  requests: number;
  threadSeconds: number;
  redisSeconds: number;
}

export interface RequestCost {
  /** Median over the measured windows, microseconds of CPU per request. */
  threadMicros: number;
  redisMicros: number;
  windows: number;
}

export class CostMeter {
  private readonly redis: RedisClient;
  private readonly windows = new Map<string, CostWindow[]>();

  constructor(redis: RedisClient) {
    this.redis = redis;
  }

  /** Runs one window of load for `side`; `run` answers how many requests it served. */
  async measure(side: string, run: () => Promise<number>): Promise<void> {
    const [threadBefore, redisBefore] = await Promise.all([
      mainThreadCpuSeconds(),
      this.redisCpuSeconds(),
    ]);
    const requests = await run();
    const [threadAfter, redisAfter] = await Promise.all([
      mainThreadCpuSeconds(),
      this.redisCpuSeconds(),
    ]);

    const windows = this.windows.get(side) ?? [];
    windows.push({
      requests,
      threadSeconds: threadAfter - threadBefore,
      redisSeconds: redisAfter - redisBefore,
    });
    this.windows.set(side, windows);
  }

  cost(side: string): RequestCost | undefined {
    const windows = (this.windows.get(side) ?? []).filter((window) => window.requests > 0);
    if (windows.length === 0) return undefined;
    const micros = (seconds: (window: CostWindow) => number) =>
      percentile(
        windows.map((window) => (seconds(window) / window.requests) * 1e6),
        50,
      );
    return {
      threadMicros: micros((window) => window.threadSeconds),
      redisMicros: micros((window) => window.redisSeconds),
      windows: windows.length,
    };
  }

  /** Redis' main thread, user + system, from INFO cpu. */
  private async redisCpuSeconds(): Promise<number> {
    const info = await this.redis.info('cpu');
    const field = (name: string) => Number(new RegExp(`^${name}:([\\d.]+)`, 'm').exec(info)?.[1]);
    const mainThread = field('used_cpu_user_main_thread') + field('used_cpu_sys_main_thread');
    // Before Redis 7 only the whole process is reported; its I/O threads are off by default.
    const seconds = Number.isFinite(mainThread)
      ? mainThread
      : field('used_cpu_user') + field('used_cpu_sys');
    if (!Number.isFinite(seconds)) throw new Error('Redis INFO cpu reports no CPU times');
    return seconds;
  }
}
