import { spawn } from 'node:child_process';

import { describe, expect, it } from 'vitest';

import {
  busyShare,
  childPidsNamed,
  cpuSecondsOf,
  cpuSecondsOfAll,
  machineCpuTicks,
} from './proc-cpu.ts';

describe('process CPU from /proc', () => {
  it('reads the CPU seconds this process has used, and 0 for a pid that does not exist', async () => {
    let spin = 0;
    for (let i = 0; i < 5e7; i++) spin += i;
    expect(spin).toBeGreaterThan(0);

    expect(await cpuSecondsOf(process.pid)).toBeGreaterThan(0);
    expect(await cpuSecondsOf(2 ** 22 + 1)).toBe(0);
    expect(await cpuSecondsOfAll([process.pid, process.pid])).toBeGreaterThan(0);
  });

  it('finds the children of this process by their executable name', async () => {
    const child = spawn('sleep', ['30'], { stdio: 'ignore' });
    try {
      await new Promise((resolve) => child.once('spawn', resolve));
      const found = await childPidsNamed(['sleep', 'no-such-name']);
      expect(found.get('sleep')).toContain(child.pid);
      expect(found.get('no-such-name')).toEqual([]);
    } finally {
      child.kill('SIGKILL');
    }
  });
});

describe('machine CPU', () => {
  it('reads busy and total ticks that grow, and their busy share between two readings', async () => {
    const before = await machineCpuTicks();
    let spin = 0;
    for (let i = 0; i < 5e7; i++) spin += i;
    const after = await machineCpuTicks();

    expect(spin).toBeGreaterThan(0);
    expect(after.total).toBeGreaterThan(before.total);
    expect(after.busy).toBeLessThanOrEqual(after.total);
    const share = busyShare(before, after);
    expect(share).toBeGreaterThan(0);
    expect(share).toBeLessThanOrEqual(1);
    expect(busyShare(after, after)).toBe(0);
  });
});
