import type { V1ContainerState, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { captureContainerStates } from './container-states.ts';

function pod(restartPolicy: string, states: Record<string, V1ContainerState | undefined>): V1Pod {
  const names = Object.keys(states);
  return {
    spec: { restartPolicy, containers: names.map((name) => ({ name, image: 'busybox' })) },
    status: {
      containerStatuses: names.flatMap((name) => {
        const state = states[name];
        return state
          ? [{ name, image: 'busybox', imageID: '', ready: false, restartCount: 2, state }]
          : [];
      }),
    },
  };
}

const running = { running: { startedAt: new Date() } };
const completed = { terminated: { exitCode: 0, reason: 'Completed' } };
const crashed = { terminated: { exitCode: 137, reason: 'Error' } };
const backOff = { waiting: { reason: 'CrashLoopBackOff' } };

describe('container states', () => {
  it('drops a completed container under Never and keeps the rest', () => {
    const states = captureContainerStates(
      pod('Never', { loader: completed, trainer: running, monitor: running }),
    );

    expect(states.map((s) => [s.name, s.state, s.should_migrate])).toEqual([
      ['loader', 'completed', false],
      ['trainer', 'running', true],
      ['monitor', 'running', true],
    ]);
    expect(states[0]?.decision).toMatch(/restartPolicy Never would not run it again/);
    expect(states[0]?.restart_count).toBe(2);
  });

  it('drops a completed container under OnFailure', () => {
    const [loader] = captureContainerStates(pod('OnFailure', { loader: completed }));
    expect(loader?.should_migrate).toBe(false);
  });

  it('keeps a completed container under Always, since the kubelet restarts it', () => {
    const [loader] = captureContainerStates(pod('Always', { loader: completed }));
    expect(loader).toMatchObject({ state: 'completed', should_migrate: true });
  });

  it('keeps failed, waiting and not yet reported containers', () => {
    const states = captureContainerStates(
      pod('Never', { failed: crashed, looping: backOff, fresh: undefined }),
    );

    expect(states).toEqual([
      expect.objectContaining({
        name: 'failed',
        state: 'failed',
        exit_code: 137,
        should_migrate: true,
      }),
      expect.objectContaining({ name: 'looping', state: 'waiting', reason: 'CrashLoopBackOff' }),
      expect.objectContaining({ name: 'fresh', state: 'waiting', reason: 'NoStatusYet' }),
    ]);
  });
});
