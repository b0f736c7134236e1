import { describe, expect, it } from 'vitest';

import { gateHeldPod, gateMovedPod, heldState } from './decision.ts';

const T0 = new Date('2026-01-01T00:00:00Z');
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000);
/** A hold since `since`, last seen above at `seen` (by default, then too). */
const seenAt = (since: number, seen = since) => ({ since: at(since), seen: at(seen) });
const policy = {
  for_seconds: 30,
  target_nodes: ['worker-2'],
  cooldown_seconds: 60,
  max_in_flight: 1,
};

describe('the hold above the threshold', () => {
  it('starts when usage first goes above the threshold', () => {
    expect(heldState(policy, 900, 800, null, at(0))).toEqual({
      above: true,
      aboveSince: at(0),
      held: false,
    });
  });

  it('counts only once usage has stayed above for for_seconds', () => {
    expect(heldState(policy, 900, 800, seenAt(0), at(29)).held).toBe(false);
    expect(heldState(policy, 900, 800, seenAt(0), at(30))).toEqual({
      above: true,
      aboveSince: at(0),
      held: true,
    });
  });

  it('ends when usage falls to the threshold or below, so a later rise starts over', () => {
    expect(heldState(policy, 800, 800, seenAt(0), at(40))).toEqual({
      above: false,
      aboveSince: null,
      held: false,
    });
    expect(heldState(policy, 900, 800, null, at(41))).toMatchObject({ aboveSince: at(41) });
  });

  it('starts over when the evaluation that last saw the pod above is too old', () => {
    const gap = 60_000;
    expect(heldState(policy, 900, 800, seenAt(0, 20), at(80), gap).aboveSince).toEqual(at(0));
    expect(heldState(policy, 900, 800, seenAt(0, 20), at(81), gap)).toEqual({
      above: true,
      aboveSince: at(81),
      held: false,
    });
  });

  it('holds at once with for_seconds 0', () => {
    expect(heldState({ for_seconds: 0 }, 1, 0.5, null, at(0)).held).toBe(true);
  });
});

describe('the checks of a held pod', () => {
  const free = { podNode: 'worker-1', activeMigrationId: null, lastStartedAt: null, inFlight: 0 };

  it('lets a pod through when nothing stands in the way', () => {
    expect(gateHeldPod(policy, { ...free, now: at(0) })).toEqual({ decision: 'eligible' });
  });

  it('never starts a second migration of a pod already migrating', () => {
    const gate = gateHeldPod(policy, { ...free, activeMigrationId: 'm-1', now: at(0) });
    expect(gate).toEqual({
      decision: 'pod-already-migrating',
      reason: 'migration m-1 of this pod is unfinished',
    });
  });

  it('leaves a pod on one of the target nodes where it is', () => {
    expect(gateHeldPod(policy, { ...free, podNode: 'worker-2', now: at(0) }).decision).toBe(
      'already-on-target',
    );
  });

  it('waits out the cooldown after the policy started a migration', () => {
    const started = { ...free, lastStartedAt: at(0) };
    expect(gateHeldPod(policy, { ...started, now: at(59) }).decision).toBe('in-cooldown');
    expect(gateHeldPod(policy, { ...started, now: at(60) }).decision).toBe('eligible');
  });

  it('starts no more than max_in_flight unfinished migrations', () => {
    expect(gateHeldPod(policy, { ...free, inFlight: 1, now: at(0) }).decision).toBe(
      'max-in-flight',
    );
    expect(
      gateHeldPod({ ...policy, max_in_flight: 2 }, { ...free, inFlight: 1, now: at(0) }).decision,
    ).toBe('eligible');
  });
});

describe('the cooldown of a pod a policy moved', () => {
  const move = { migration_id: 'm-1', policy: 'p-ping', started_at: at(0).toISOString() };

  it('keeps every policy off the new pod until it has passed', () => {
    expect(gateMovedPod(move, 600, at(599))).toEqual({
      decision: 'in-cooldown',
      reason:
        'the pod was made by migration m-1, which policy p-ping started at ' +
        '2026-01-01T00:00:00.000Z; no policy moves it again before 2026-01-01T00:10:00.000Z',
    });
    expect(gateMovedPod(move, 600, at(600))).toEqual({ decision: 'eligible' });
  });

  it('leaves alone a pod no policy made', () => {
    expect(gateMovedPod(null, 600, at(0))).toEqual({ decision: 'eligible' });
  });
});
