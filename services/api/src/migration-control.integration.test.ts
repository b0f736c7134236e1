import { randomUUID } from 'node:crypto';

import { afterEach, beforeEach, describe, expect, it } from 'vitest';

import type { MigrationRecord } from '@aso/shared';

import { inProcessApi, newToken, type InProcessApi } from '../../../test/support/in-process-api.ts';

// Idempotency-Key on POST and DELETE as cancel, through the gateway over a real Redis.

const writer = newToken();
const reader = newToken();
let api: InProcessApi;

beforeEach(() => {
  api = inProcessApi({ tokens: `read-write:${writer},read-only:${reader}` });
});

afterEach(async () => {
  await api.close();
});

function body(podName = 'tf-train-0'): Record<string, unknown> {
  return {
    pod_name: podName,
    pod_namespace: 'default',
    source_node: 'worker-1',
    target_node: 'worker-2',
  };
}

async function call(
  method: string,
  path: string,
  options: { body?: unknown; headers?: Record<string, string>; token?: string } = {},
): Promise<{ status: number; json: Record<string, unknown>; headers: Headers }> {
  const headers: Record<string, string> = {
    authorization: `Bearer ${options.token ?? writer}`,
    ...options.headers,
  };
  const init: RequestInit = { method, headers };
  if (options.body !== undefined) {
    headers['content-type'] = 'application/json';
    init.body = JSON.stringify(options.body);
  }
  const response = await api.app.request(path, init);
  return {
    status: response.status,
    json: (await response.json()) as Record<string, unknown>,
    headers: response.headers,
  };
}

const submit = (key: string, payload = body()) =>
  call('POST', '/api/v1/migrations', { body: payload, headers: { 'idempotency-key': key } });

describe('Idempotency-Key', () => {
  it('answers a repeated POST with the same migration and queues it once', async () => {
    const first = await submit('key-1');
    const second = await submit('key-1');

    expect(first.status).toBe(202);
    expect(second.status).toBe(202);
    expect(second.json['migration_id']).toBe(first.json['migration_id']);
    expect(second.headers.get('idempotent-replayed')).toBe('true');
    expect(first.headers.get('idempotent-replayed')).toBeNull();
    expect(await api.footprint()).toEqual({ records: 1, jobs: 1 });
  });

  it('replays without asking the pre-flight again', async () => {
    const first = await submit('key-2');
    // The pod has moved since: a fresh pre-flight would refuse the request.
    await api.store.update(first.json['migration_id'] as string, (r) => {
      r.status = 'completed';
    });

    const again = await submit('key-2');

    expect(again.status).toBe(202);
    expect(again.json).toMatchObject({
      migration_id: first.json['migration_id'],
      status: 'completed',
    });
  });

  it('refuses the same key with another request body', async () => {
    await submit('key-3');
    const other = await submit('key-3', body('another-pod'));

    expect(other.status).toBe(422);
    expect(other.json).toMatchObject({ code: 'idempotency-key-reused' });
    expect(await api.footprint()).toEqual({ records: 1, jobs: 1 });
  });

  it('keeps the keys of two callers apart', async () => {
    const other = newToken();
    await api.close();
    api = inProcessApi({ tokens: `read-write:${writer},read-write:${other}` });

    const mine = await submit('shared-key');
    const theirs = await call('POST', '/api/v1/migrations', {
      body: body('another-pod'),
      headers: { 'idempotency-key': 'shared-key' },
      token: other,
    });

    expect(theirs.status).toBe(202);
    expect(theirs.json['migration_id']).not.toBe(mine.json['migration_id']);
  });

  it('refuses a malformed key before anything is stored', async () => {
    const tooLong = await submit('k'.repeat(256));
    const blank = await submit(' ');

    expect(tooLong.status).toBe(400);
    expect(tooLong.json).toMatchObject({ code: 'invalid-request' });
    expect(JSON.stringify(tooLong.json)).toMatch(/Idempotency-Key/);
    expect(blank.status).toBe(400);
    expect(await api.footprint()).toEqual({ records: 0, jobs: 0 });
  });
});

describe('DELETE /api/v1/migrations/:id', () => {
  async function accepted(): Promise<string> {
    const answer = await call('POST', '/api/v1/migrations', { body: body() });
    expect(answer.status).toBe(202);
    return answer.json['migration_id'] as string;
  }

  it('cancels a migration no stage has begun at once', async () => {
    const id = await accepted();

    const answer = await call('DELETE', `/api/v1/migrations/${id}`);

    expect(answer.status).toBe(200);
    expect(answer.json).toMatchObject({
      status: 'cancelled',
      error: { code: 'migration-cancelled' },
    });
    const again = await call('POST', '/api/v1/migrations', { body: body() });
    expect(again.status).toBe(202);
  });

  it('flags a running migration and answers 202', async () => {
    const id = await accepted();
    await api.store.update(id, (r) => {
      r.status = 'running';
      r.stage = 'pod';
    });

    const answer = await call('DELETE', `/api/v1/migrations/${id}`);

    expect(answer.status).toBe(202);
    expect(answer.json['status']).toBe('running');
    expect(answer.json['cancel_requested_at']).toEqual(expect.any(String));
  });

  it('answers 409 once the switch began or the migration ended', async () => {
    const id = await accepted();
    await api.store.update(id, (r: MigrationRecord) => {
      r.status = 'running';
      r.progress.switch_started = true;
    });

    const switching = await call('DELETE', `/api/v1/migrations/${id}`);
    await api.store.update(id, (r) => {
      r.status = 'completed';
    });
    const ended = await call('DELETE', `/api/v1/migrations/${id}`);

    expect(switching).toMatchObject({ status: 409, json: { code: 'migration-switch-started' } });
    expect(ended).toMatchObject({ status: 409, json: { code: 'migration-finished' } });
  });

  it('answers 404 for an unknown id, 400 for a malformed one, 403 for a read-only token', async () => {
    const unknown = await call('DELETE', `/api/v1/migrations/${randomUUID()}`);
    const malformed = await call('DELETE', '/api/v1/migrations/not-an-id');
    const id = await accepted();
    const readOnly = await call('DELETE', `/api/v1/migrations/${id}`, { token: reader });

    expect(unknown.status).toBe(404);
    expect(malformed.status).toBe(400);
    expect(readOnly.status).toBe(403);
    expect((await api.store.require(id)).status).toBe('pending');
  });
});
