import type { V1Pod } from '@kubernetes/client-node';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import { migrationEventSchema, type MigrationEvent } from '@aso/shared';

import { expectDescribedResponse } from '../support/api-contract.ts';
import { isRunning, OrchestratorHarness } from '../support/orchestrator-harness.ts';
import { readSse, type SseBody, type SseMessage } from '../support/sse.ts';

// A migration's progress as server-sent events, followed through the real gateway
// while the workers move real pods on the local cluster.

let h: OrchestratorHarness;

beforeAll(async () => {
  h = await OrchestratorHarness.start('events', inject('kubeconfigPath'));
});

afterAll(async () => {
  await h.stop();
});

/** Opens a migration's event stream as a read-only client would. */
async function open(id: string, lastEventId?: string): Promise<Response> {
  const response = await fetch(`${h.system.apiUrl}/api/v1/migrations/${id}/events`, {
    headers: {
      authorization: `Bearer ${h.system.apiReadOnlyToken}`,
      ...(lastEventId === undefined ? {} : { 'last-event-id': lastEventId }),
    },
  });
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return response;
}

/** Follows a stream to its end (the server closes it), checking each event. */
async function follow(
  id: string,
  options: { lastEventId?: string; until?: (message: SseMessage) => boolean } = {},
): Promise<SseBody> {
  const response = await open(id, options.lastEventId);
  const seen = await readSse(response, (message) =>
    options.until?.(message) ? 'stop' : undefined,
  );

  const text = seen.messages.map((m) => `event: ${m.event}\ndata: ${m.data}\n\n`).join('');
  expectDescribedResponse({
    method: 'GET',
    path: `/api/v1/migrations/${id}/events`,
    status: 200,
    contentType: response.headers.get('content-type'),
    body: text,
  });
  return seen;
}

function eventsOf(seen: SseBody): MigrationEvent[] {
  return seen.messages.map((message) => {
    const event = migrationEventSchema.parse(JSON.parse(message.data));
    expect(message.event).toBe(event.type);
    return event;
  });
}

const story = (events: MigrationEvent[]) =>
  events.map((e) => (e.stage === null ? e.type : `${e.type}:${e.stage}`));

/** A pod on worker-1 to move; one that never starts is only waited for until placed. */
async function movingPod(prefix: string, annotations: Record<string, string> = {}) {
  const starts = annotations['sim.aso.dev/waiting'] === undefined;
  const placed = (pod: V1Pod) => Boolean(pod.spec?.nodeName);
  const pod = await h.podOn('worker-1', { prefix, annotations }, starts ? isRunning : placed);
  return pod.metadata?.name ?? '';
}

/** Moves the pod from worker-1 to worker-2 without a checkpoint claim. */
function submitMove(name: string, options: { timeout?: number } = {}) {
  return h.submit({
    pod_name: name,
    source_node: 'worker-1',
    target_node: 'worker-2',
    preserve_pv: false,
    ...options,
  });
}

/** How every story here begins, up to the new pod's creation. */
const UNTIL_NEW_POD = [
  'accepted',
  'stage-started:capture',
  'stage-finished:capture',
  'stage-started:pod',
  'new-pod-created:pod',
];

describe('migration event stream', () => {
  it('follows a migration from its acceptance to its completion, then closes', async () => {
    const name = await movingPod('followed');
    const accepted = await submitMove(name);

    const seen = await follow(accepted.migration_id);
    const events = eventsOf(seen);

    expect(story(events)).toEqual([
      ...UNTIL_NEW_POD,
      'pod-ready:pod',
      'original-removed:pod',
      'stage-finished:pod',
      'stage-started:metrics',
      'stage-finished:metrics',
      'completed:metrics',
    ]);
    expect(events.every((e) => e.migration_id === accepted.migration_id)).toBe(true);
    const ready = events.find((e) => e.type === 'pod-ready');
    expect(ready?.pod).toMatchObject({ node: 'worker-2' });
    expect(events.at(-1)).toMatchObject({ status: 'completed' });
    // Ids increase; nothing is derived when every process lived.
    const ids = seen.messages.map((m) => m.id ?? '');
    expect([...ids].sort(compareIds)).toEqual(ids);
    expect(events.some((e) => e.derived)).toBe(false);
    expect((await h.finished(accepted.migration_id)).status).toBe('completed');
  });

  it('resumes after a disconnect with Last-Event-ID: no event lost, none twice', async () => {
    // Slow to become Ready, so that the client goes away while the migration runs.
    const name = await movingPod('resumed', { 'sim.aso.dev/ready-after': '4' });
    const accepted = await submitMove(name);

    const before = await follow(accepted.migration_id, {
      until: (message) => message.event === 'new-pod-created',
    });
    const lastId = before.messages.at(-1)?.id ?? '';
    expect(lastId).not.toBe('');
    // Gone before the migration ended: it still runs.
    expect(eventsOf(before).some((e) => e.type === 'completed')).toBe(false);

    const after = await follow(accepted.migration_id, { lastEventId: lastId });
    const full = await follow(accepted.migration_id);

    const union = [...before.messages, ...after.messages];
    expect(union.map((m) => m.id)).toEqual(full.messages.map((m) => m.id));
    expect(new Set(union.map((m) => m.id)).size).toBe(union.length);
    expect(union.map((m) => m.data)).toEqual(full.messages.map((m) => m.data));
    expect(after.messages.at(-1)?.event).toBe('completed');
  });

  it('tells a cancel: the request, the rollback and the end', async () => {
    // The new pod never becomes Ready: the migration waits until it is cancelled.
    const name = await movingPod('cancelled', { 'sim.aso.dev/waiting': 'app=ImagePullBackOff' });
    const accepted = await submitMove(name, { timeout: 600 });

    const response = await open(accepted.migration_id);
    const seen = await readSse(response, (message) => {
      if (message.event === 'new-pod-created') {
        void h.api(`/api/v1/migrations/${accepted.migration_id}`, { method: 'DELETE' });
      }
      return undefined;
    });
    const events = eventsOf(seen);

    expect(story(events)).toEqual([
      ...UNTIL_NEW_POD,
      'cancel-requested:pod',
      'rolled-back:pod',
      'cancelled:pod',
    ]);
    expect(events.find((e) => e.type === 'rolled-back')?.undone).toEqual(
      expect.arrayContaining([expect.stringMatching(/^deleted new pod /)]),
    );
    expect(events.at(-1)).toMatchObject({
      status: 'cancelled',
      error: { code: 'migration-cancelled', rolled_back: true },
    });
  });

  it('tells a failure with its code and reason after the rollback', async () => {
    // Never Ready: the pod stage waits out the shortest timeout, then rolls back.
    const name = await movingPod('failing', { 'sim.aso.dev/waiting': 'app=ImagePullBackOff' });
    const accepted = await submitMove(name, { timeout: 30 });

    const events = eventsOf(await follow(accepted.migration_id));

    expect(story(events)).toEqual([...UNTIL_NEW_POD, 'rolled-back:pod', 'failed:pod']);
    expect(events.at(-1)).toMatchObject({
      status: 'failed',
      error: { code: 'new-pod-not-ready', rolled_back: true },
    });
    expect(events.at(-1)?.error?.message).toMatch(/did not become Ready/);
  });
});

function compareIds(a: string, b: string): number {
  const [aMs = 0, aSeq = 0] = a.split('-').map(Number);
  const [bMs = 0, bSeq = 0] = b.split('-').map(Number);
  return aMs - bMs || aSeq - bSeq;
}
