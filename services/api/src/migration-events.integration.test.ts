import { randomUUID } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import {
  createLogger,
  createMetricsRegistry,
  createRedis,
  MigrationStore,
  newMigrationRecord,
  StageQueues,
  type MigrationEvent,
  type MigrationRecord,
} from '@aso/shared';

import { checkingAnswers } from '../../../test/support/api-contract.ts';
import { newToken } from '../../../test/support/in-process-api.ts';
import { testRedis, type TestRedis } from '../../../test/support/redis.ts';
import { SAMPLE_REQUEST } from '../../../test/support/sample-request.ts';
import { parseSse, readSse, type SseBody } from '../../../test/support/sse.ts';
import { loadApiTokens } from './api-tokens.ts';
import { createApp } from './app.ts';
import type { EventStreamSettings } from './routes/migration-events.ts';

const writer = newToken();
const reader = newToken();

let redis: TestRedis;
let store: MigrationStore;
let queues: StageQueues;

beforeEach(() => {
  redis = testRedis();
  store = new MigrationStore(createRedis(redis.url, 'producer', 'test:store'), redis.prefix);
  queues = new StageQueues(createRedis(redis.url, 'producer', 'test:queues'), redis.prefix);
});

afterEach(async () => {
  await queues.close();
  await redis.cleanup();
});

type Gateway = ReturnType<typeof createApp>;

/** The gateway in-process, polling fast; `derivedGraceMs` 0 derives a missing end at once. */
function unchecked(
  eventStream: Partial<EventStreamSettings> = {},
  stopping?: AbortSignal,
  ownStore = store,
): Gateway {
  return createApp({
    store: ownStore,
    queues,
    planner: () => Promise.reject(new Error('no planning in these tests')),
    logger: createLogger('events-route-test', 'silent'),
    registry: createMetricsRegistry('events-route-test'),
    checks: {},
    tokens: loadApiTokens({ ASO_API_TOKENS: `read-write:${writer}, read-only:${reader}` }),
    eventStream: { pollMs: 20, derivedGraceMs: 0, ...eventStream },
    stopping,
  });
}

/** Every answer checked against the OpenAPI description (the whole body, once it ends). */
function gateway(eventStream: Partial<EventStreamSettings> = {}): Gateway {
  return checkingAnswers(unchecked(eventStream));
}

/**
 * A stream that is still live, read as it arrives: the checking gateway would wait
 * for the whole body first, which only ends with the migration.
 */
function fetchLive(app: Gateway, path: string): Promise<Response> {
  return Promise.resolve(app.request(path, { headers: { authorization: `Bearer ${reader}` } }));
}

function eventsPath(id: string, query = ''): string {
  return `/api/v1/migrations/${id}/events${query}`;
}

async function get(
  app: Gateway,
  path: string,
  headers: Record<string, string> = {},
): Promise<Response> {
  return app.request(path, { headers: { authorization: `Bearer ${reader}`, ...headers } });
}

async function stored(): Promise<MigrationRecord> {
  const record = newMigrationRecord(randomUUID(), SAMPLE_REQUEST, new Date());
  await store.create(record);
  return record;
}

async function tell(record: MigrationRecord, type: MigrationEvent['type']): Promise<string> {
  const id = await store.events.append({
    type,
    migration_id: record.migration_id,
    at: new Date().toISOString(),
    stage: 'capture',
    status: type === 'completed' ? 'completed' : 'running',
    message: type,
  });
  if (id === null) throw new Error('the event was not logged');
  return id;
}

async function finish(record: MigrationRecord, status: 'completed' | 'failed'): Promise<void> {
  await store.update(record.migration_id, (r) => {
    r.status = status;
    r.message = `migration ${status}`;
    r.finished_at = new Date().toISOString();
    if (status === 'failed') {
      r.error = {
        code: 'new-pod-not-ready',
        message: 'never Ready',
        stage: 'pod',
        rolled_back: true,
      };
    }
  });
}

async function body(response: Response): Promise<SseBody> {
  expect(response.status).toBe(200);
  expect(response.headers.get('content-type')).toMatch(/^text\/event-stream/);
  return parseSse(await response.text());
}

const typesOf = (seen: SseBody) => seen.messages.map((m) => m.event);

describe('migration event stream', () => {
  it('replays a finished migration with the log ids and closes after its end', async () => {
    const record = await stored();
    const ids = [];
    for (const type of ['accepted', 'stage-started', 'stage-finished'] as const) {
      ids.push(await tell(record, type));
    }
    await finish(record, 'completed');
    ids.push(await tell(record, 'completed'));

    const seen = await body(await get(gateway(), eventsPath(record.migration_id)));

    expect(typesOf(seen)).toEqual(['accepted', 'stage-started', 'stage-finished', 'completed']);
    expect(seen.messages.map((m) => m.id)).toEqual(ids);
    const last = JSON.parse(seen.messages[3]?.data ?? '{}') as MigrationEvent;
    expect(last).toMatchObject({ type: 'completed', migration_id: record.migration_id });
  });

  it('resumes right after Last-Event-ID, or the last_event_id query parameter', async () => {
    const record = await stored();
    const first = await tell(record, 'accepted');
    const second = await tell(record, 'stage-started');
    await tell(record, 'stage-finished');
    await finish(record, 'completed');
    const end = await tell(record, 'completed');
    const app = gateway();

    const byHeader = await body(
      await get(app, eventsPath(record.migration_id), { 'last-event-id': first }),
    );
    expect(typesOf(byHeader)).toEqual(['stage-started', 'stage-finished', 'completed']);

    const byQuery = await body(
      await get(app, eventsPath(record.migration_id, `?last_event_id=${second}`)),
    );
    expect(typesOf(byQuery)).toEqual(['stage-finished', 'completed']);

    // Resumed after the end: nothing will come, and an EventSource must stop asking.
    const afterEnd = await get(app, eventsPath(record.migration_id), { 'last-event-id': end });
    expect(afterEnd.status).toBe(204);
    expect(await afterEnd.text()).toBe('');
  });

  it('follows a migration live until its last event', async () => {
    const record = await stored();
    await tell(record, 'accepted');
    const app = unchecked();

    const received: string[] = [];
    const response = await fetchLive(app, eventsPath(record.migration_id));
    const reading = readSse(response, (message) => {
      received.push(message.event);
      return undefined;
    });

    await untilReceived(received, 1);
    await tell(record, 'stage-started');
    await untilReceived(received, 2);
    await tell(record, 'stage-finished');
    await finish(record, 'completed');
    await tell(record, 'completed');

    const seen = await reading;
    expect(typesOf(seen)).toEqual(['accepted', 'stage-started', 'stage-finished', 'completed']);
  });

  it('ends with a derived event when the record ended without its last event', async () => {
    const record = await stored();
    const accepted = await tell(record, 'accepted');
    await finish(record, 'failed');

    const seen = await body(await get(gateway(), eventsPath(record.migration_id)));

    expect(typesOf(seen)).toEqual(['accepted', 'failed']);
    expect(seen.messages.map((m) => m.id)).toEqual([accepted, null]);
    expect(JSON.parse(seen.messages[1]?.data ?? '{}')).toMatchObject({
      type: 'failed',
      status: 'failed',
      stage: 'pod',
      error: { code: 'new-pod-not-ready', message: 'never Ready', rolled_back: true },
      derived: true,
    });
  });

  it('waits for a terminal event that is still on its way instead of deriving it', async () => {
    const record = await stored();
    await tell(record, 'accepted');
    await finish(record, 'completed');
    const app = unchecked({ derivedGraceMs: 60_000 });

    const response = await fetchLive(app, eventsPath(record.migration_id));
    const reading = readSse(response, () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 100));
    await tell(record, 'completed');

    const seen = await reading;
    expect(typesOf(seen)).toEqual(['accepted', 'completed']);
    expect(seen.messages[1]?.id).not.toBeNull();
  });

  it('sends heartbeat comments while nothing happens', async () => {
    const record = await stored();
    await tell(record, 'accepted');
    const app = unchecked({ heartbeatMs: 30 });

    const response = await fetchLive(app, eventsPath(record.migration_id));
    const reading = readSse(response, () => undefined);
    await new Promise((resolve) => setTimeout(resolve, 200));
    await finish(record, 'completed');
    await tell(record, 'completed');

    const seen = await reading;
    expect(seen.comments.filter((c) => c === 'heartbeat').length).toBeGreaterThan(0);
    expect(typesOf(seen)).toEqual(['accepted', 'completed']);
  });

  it('ends open streams when the gateway stops, so that its server can close', async () => {
    const record = await stored();
    await tell(record, 'accepted');
    const stopping = new AbortController();
    const app = unchecked({ pollMs: 60_000 }, stopping.signal);

    const response = await fetchLive(app, eventsPath(record.migration_id));
    const received: string[] = [];
    const reading = readSse(response, (message) => {
      received.push(message.event);
      return undefined;
    });
    await untilReceived(received, 1);
    const stoppedAt = Date.now();
    stopping.abort();

    // The migration still runs; the stream ends at once, without an end event.
    const seen = await reading;
    expect(Date.now() - stoppedAt).toBeLessThan(5_000);
    expect(typesOf(seen)).toEqual(['accepted']);
  });

  it('tells a client that the log cannot be read, then closes', async () => {
    const record = await stored();
    await tell(record, 'accepted');
    const connection = createRedis(redis.url, 'producer', 'test:lost');
    const app = unchecked({}, undefined, new MigrationStore(connection, redis.prefix));

    const response = await fetchLive(app, eventsPath(record.migration_id));
    const received: string[] = [];
    const reading = readSse(response, (message) => {
      received.push(message.event);
      return undefined;
    });
    await untilReceived(received, 1);
    connection.disconnect();

    const seen = await reading;
    expect(typesOf(seen)).toEqual(['accepted', 'stream-error']);
    expect(seen.messages[1]?.id).toBeNull();
    expect(JSON.parse(seen.messages[1]?.data ?? '{}')).toMatchObject({
      message: expect.stringMatching(/Last-Event-ID/) as unknown,
    });
  });

  it('refuses an unknown migration, a malformed id or a malformed Last-Event-ID', async () => {
    const app = gateway();
    const record = await stored();

    const unknown = await get(app, eventsPath(randomUUID()));
    expect(unknown.status).toBe(404);
    expect(await unknown.json()).toMatchObject({ code: 'migration-not-found' });

    const badId = await get(app, eventsPath('not-a-uuid'));
    expect(badId.status).toBe(400);

    for (const bad of ['abc', '12', '1-2-3', '-1', '1-']) {
      const header = await get(app, eventsPath(record.migration_id), { 'last-event-id': bad });
      expect(header.status).toBe(400);
      expect(await header.json()).toMatchObject({ code: 'invalid-request' });
    }
    const query = await get(app, eventsPath(record.migration_id, '?last_event_id=x'));
    expect(query.status).toBe(400);
    expect(query.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });

  it('refuses a Last-Event-ID past the log, running or ended, and resumes at its last entry', async () => {
    const record = await stored();
    const last = await tell(record, 'accepted');
    const app = gateway();
    // Another migration's log, written later: its ids are past this one's.
    const later = newMigrationRecord(
      randomUUID(),
      { ...SAMPLE_REQUEST, pod_name: 'another-pod' },
      new Date(),
    );
    await store.create(later);
    const laterId = await tell(later, 'accepted');

    for (const ahead of ['9999999999999-0', laterId]) {
      const running = await get(app, eventsPath(record.migration_id), { 'last-event-id': ahead });
      expect(running.status).toBe(400);
      expect(await running.json()).toMatchObject({
        code: 'invalid-request',
        detail: expect.stringContaining("not in this migration's log") as unknown,
        errors: [{ field: 'Last-Event-ID' }],
      });
    }

    // The last entry itself is a valid place to resume: the stream goes on from there.
    const atEnd = await fetchLive(
      unchecked(),
      `${eventsPath(record.migration_id)}?last_event_id=${last}`,
    );
    const reading = readSse(atEnd, () => undefined);
    await finish(record, 'completed');
    await tell(record, 'completed');
    expect(typesOf(await reading)).toEqual(['completed']);

    const ended = await get(app, eventsPath(record.migration_id, '?last_event_id=9999999999999-0'));
    expect(ended.status).toBe(400);
    expect(await ended.json()).toMatchObject({ errors: [{ field: 'last_event_id' }] });
  });

  it('answers 405 with Allow for a method the path does not take, 404 for no path', async () => {
    const app = unchecked();
    const id = randomUUID();
    const send = (method: string, path: string) =>
      app.request(path, { method, headers: { authorization: `Bearer ${writer}` } });

    const posted = await send('POST', eventsPath(id));
    expect(posted.status).toBe(405);
    expect(posted.headers.get('allow')).toBe('GET, HEAD');
    expect(posted.headers.get('content-type')).toBe('application/problem+json');
    expect(await posted.json()).toMatchObject({
      status: 405,
      title: 'Method Not Allowed',
      code: 'method-not-allowed',
      detail: `POST is not allowed on /api/v1/migrations/${id}/events; use GET, HEAD`,
    });

    const put = await send('PUT', `/api/v1/migrations/${id}`);
    expect(put.status).toBe(405);
    expect(put.headers.get('allow')).toBe('DELETE, GET, HEAD');

    expect((await send('POST', `/api/v1/migrations/${id}/elsewhere`)).status).toBe(404);
  });

  it('needs a token; a read-only token may follow', async () => {
    const record = await stored();
    await finish(record, 'completed');
    await tell(record, 'completed');
    const app = gateway();

    const anonymous = await app.request(eventsPath(record.migration_id));
    expect(anonymous.status).toBe(401);
    expect(typesOf(await body(await get(app, eventsPath(record.migration_id))))).toEqual([
      'completed',
    ]);
  });
});

async function untilReceived(received: string[], count: number): Promise<void> {
  for (let waited = 0; received.length < count; waited += 10) {
    if (waited > 5_000) throw new Error(`only ${received.length} of ${count} events arrived`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}
