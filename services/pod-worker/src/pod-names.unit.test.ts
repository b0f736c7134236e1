import { describe, expect, it } from 'vitest';

import { checkpointClaimName, newPodName, workloadLabel } from './pod-names.ts';

const ID = '3f2a9c1e-0000-4000-8000-000000000000';
const NEXT_ID = 'a1b2c3d4-0000-4000-8000-000000000000';

describe('pod names', () => {
  it('derives the new name from the workload and the migration', () => {
    expect(newPodName('tf-train-0', ID)).toBe('tf-train-0-m3f2a9c');
  });

  it('does not grow on repeated migrations, since the workload is the base', () => {
    expect(newPodName('tf-train-0', NEXT_ID)).toBe('tf-train-0-ma1b2c3');
  });

  it('leaves a workload whose own name looks like a migrated one alone', () => {
    expect(newPodName('app-mabc123', ID)).toBe('app-mabc123-m3f2a9c');
    expect(checkpointClaimName('app-mabc123')).not.toBe(checkpointClaimName('app'));
  });

  it('stays a valid name of at most 63 characters', () => {
    const long = `${'a'.repeat(55)}-${'b'.repeat(100)}`;
    const name = newPodName(long, ID);

    expect(name.length).toBeLessThanOrEqual(63);
    expect(name).toMatch(/^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/);
  });

  it('never ends the cut name with a dash', () => {
    const name = newPodName(`${'x'.repeat(54)}-yyyyyyyy`, ID);
    expect(name).toBe(`${'x'.repeat(54)}-m3f2a9c`);
  });

  it('names one checkpoint claim per workload', () => {
    expect(checkpointClaimName('tf-train-0')).toBe('tf-train-0-checkpoint');
    expect(checkpointClaimName('c'.repeat(80)).length).toBeLessThanOrEqual(63);
  });

  it('keeps workload labels within 63 characters and distinct', () => {
    const a = workloadLabel(`${'w'.repeat(80)}-a`);
    const b = workloadLabel(`${'w'.repeat(80)}-b`);

    expect(a.length).toBeLessThanOrEqual(63);
    expect(a).not.toBe(b);
  });
});
