import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { serves, timeWithNone } from './workload-watch.ts';

describe('timeWithNone', () => {
  const timeline: [number, number][] = [
    [100, 1],
    [200, 0],
    [250, 1],
    [300, 0],
  ];

  it('adds up the stretches with no serving pod inside the window', () => {
    expect(timeWithNone(timeline, 0, 400)).toBe(50 + 100);
  });

  it('clips the stretches to the window', () => {
    expect(timeWithNone(timeline, 220, 320)).toBe(30 + 20);
  });

  it('counts nothing while a pod serves, nor before the first observation', () => {
    expect(timeWithNone([[100, 2]], 0, 500)).toBe(0);
    expect(timeWithNone([], 0, 500)).toBe(0);
  });
});

describe('serves', () => {
  const pod = (
    loader: 'running' | 'completed' | 'absent',
    trainerReady: boolean,
    deleting = false,
  ): V1Pod => ({
    metadata: deleting ? { deletionTimestamp: new Date() } : {},
    status: {
      containerStatuses: [
        ...(loader === 'absent'
          ? []
          : [
              {
                name: 'data-loader',
                image: 'busybox',
                imageID: '',
                ready: loader === 'running',
                restartCount: 0,
                state:
                  loader === 'running'
                    ? { running: {} }
                    : { terminated: { exitCode: 0, reason: 'Completed' } },
              },
            ]),
        { name: 'trainer', image: 'tf', imageID: '', ready: trainerReady, restartCount: 0 },
      ],
    },
  });

  it('serves once the loader has completed, or without one, with the trainer ready', () => {
    expect(serves(pod('completed', true))).toBe(true);
    expect(serves(pod('absent', true))).toBe(true);
  });

  it('does not serve while the loader still runs, the trainer is not ready, or it is deleted', () => {
    expect(serves(pod('running', true))).toBe(false);
    expect(serves(pod('completed', false))).toBe(false);
    expect(serves(pod('completed', true, true))).toBe(false);
  });
});
