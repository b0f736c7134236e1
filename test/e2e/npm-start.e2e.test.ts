import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, describe, expect, it } from 'vitest';

import { testRedis } from '../support/redis.ts';
import { eventually } from '../setup/kube.ts';

const ROOT = new URL('../..', import.meta.url).pathname;

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise<void>((done) => {
    server.close(() => {
      done();
    });
  });
  if (address === null || typeof address === 'string') throw new Error('no free port');
  return address.port;
}

function portAnswers(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      done(true);
    });
    socket.once('error', () => {
      done(false);
    });
  });
}

function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((done) => {
    child.once('exit', (code) => {
      done(code);
    });
  });
}

const redis = testRedis();
const stateDir = mkdtempSync(join(tmpdir(), 'aso-npm-start-'));

afterAll(async () => {
  await redis.cleanup();
  rmSync(stateDir, { recursive: true, force: true });
});

/** The welcome names the API reference, Bull Board and every service's metrics, and each answers. */
async function expectOperatorUrls(output: string, api: string, token: string): Promise<void> {
  const headers = { authorization: `Bearer ${token}` };
  expect(output).toContain(`${api}/api/v1/docs`);
  expect(output).toContain(`${api}/api/v1/openapi.json`);
  expect(output).toContain(`${api}/admin/queues`);
  expect(output).toContain(`${api}/metrics`);
  const reference = await fetch(`${api}/api/v1/docs`, { headers });
  expect(reference.headers.get('content-type')).toMatch(/text\/html/);
  expect((await fetch(`${api}/api/v1/openapi.json`, { headers })).status).toBe(200);
  expect((await fetch(`${api}/api/v1/openapi.json`)).status).toBe(401);
  expect((await fetch(`${api}/admin`)).status).toBe(200);

  const workers = [...output.matchAll(/(\S+-worker) +(http:\/\/127\.0\.0\.1:\d+\/metrics)/g)];
  expect(workers.map(([, service]) => service).sort()).toEqual([
    'capture-worker',
    'metrics-worker',
    'pod-worker',
  ]);
  for (const [, , url = ''] of workers) {
    const metrics = await eventually(
      async () => {
        const response = await fetch(url).catch(() => undefined);
        return response?.status === 200 ? await response.text() : undefined;
      },
      { what: `metrics at ${url}`, timeoutMs: 30_000 },
    );
    expect(metrics).toMatch(/^# HELP /m);
  }
}

describe('npm start', () => {
  it('starts the control plane, the API and the workers, and stops them all on Ctrl-C', async () => {
    const port = await freePort();
    const child = spawn(process.execPath, [join(ROOT, 'scripts/start.ts')], {
      cwd: ROOT,
      env: {
        ...process.env,
        PORT: String(port),
        ASO_STATE_DIR: stateDir,
        ASO_KEY_PREFIX: redis.prefix,
        LOG_LEVEL: 'warn',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

    await eventually(
      () => Promise.resolve(output.includes('AI Storage Orchestrator is running.')),
      {
        what: 'npm start to report that it runs',
        timeoutMs: 120_000,
      },
    );
    expect(output).toContain(`http://127.0.0.1:${port}/api/v1/migrations`);
    expect(output).toContain(join(stateDir, 'kubeconfig'));

    // No token was configured: one was generated for the API, kept for its owner only.
    const tokenPath = join(stateDir, 'token');
    const token = readFileSync(tokenPath, 'utf8').trim();
    expect(statSync(tokenPath).mode & 0o777).toBe(0o600);
    expect(output).toContain(token);
    expect(output).toContain(`curl -H "Authorization: Bearer $(cat ${tokenPath})"`);

    const ready = await eventually(
      async () => {
        const response = await fetch(`http://127.0.0.1:${port}/ready`);
        return response.status === 200 ? await response.json() : undefined;
      },
      { what: 'the API to be ready', timeoutMs: 30_000 },
    );
    expect(ready).toMatchObject({ status: 'ready' });

    const migrations = `http://127.0.0.1:${port}/api/v1/migrations`;
    expect((await fetch(migrations)).status).toBe(401);
    const listed = await fetch(migrations, { headers: { authorization: `Bearer ${token}` } });
    expect(listed.status).toBe(200);
    expect(await listed.json()).toMatchObject({ items: [] });

    await expectOperatorUrls(output, `http://127.0.0.1:${port}`, token);
    // Logs are readable: pino-pretty renders the services' JSON lines.
    expect(output).toMatch(/WARN: api \| ASO_ALLOWED_NAMESPACES is unset/);
    expect(output).not.toMatch(/^\{"level"/m);

    // One crashed service is started again; the rest keep running.
    const podWorker = execFileSync('pgrep', ['-P', String(child.pid), '-f', 'pod-worker']);
    process.kill(Number(podWorker.toString().trim()), 'SIGKILL');
    await eventually(
      () => Promise.resolve(output.includes('pod-worker exited (SIGKILL); restarting it')),
      {
        what: 'npm start to restart the pod worker',
        timeoutMs: 10_000,
      },
    );
    await eventually(
      () =>
        Promise.resolve(
          execFileSync('pgrep', ['-P', String(child.pid), '-f', 'pod-worker']).length > 0,
        ),
      { what: 'a new pod worker', timeoutMs: 10_000 },
    );
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);

    const kubeconfig = readFileSync(join(stateDir, 'kubeconfig'), 'utf8');
    const apiserver = /server: (https:\/\/127\.0\.0\.1:\d+)/.exec(kubeconfig)?.[1] ?? '';
    expect(apiserver).not.toBe('');

    child.kill('SIGINT');
    expect(await exited(child)).toBe(0);
    await expect(fetch(`http://127.0.0.1:${port}/health`)).rejects.toThrow();
    // The control plane went with it: nothing listens on the apiserver's port any more.
    await expect(portAnswers(Number(new URL(apiserver).port))).resolves.toBe(false);
  });

  it('refuses to start with a clear message when the API port is taken', async () => {
    const server = createServer();
    await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
    const address = server.address();
    const port = address !== null && typeof address !== 'string' ? address.port : 0;

    const child = spawn(process.execPath, [join(ROOT, 'scripts/start.ts')], {
      cwd: ROOT,
      env: { ...process.env, PORT: String(port), ASO_STATE_DIR: stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

    expect(await exited(child)).toBe(1);
    expect(output).toContain(`port ${port} is already in use`);
    server.close();
  });

  it('refuses to start with a clear message when no Redis answers', async () => {
    const child = spawn(process.execPath, [join(ROOT, 'scripts/start.ts')], {
      cwd: ROOT,
      env: { ...process.env, REDIS_URL: 'redis://127.0.0.1:1', ASO_STATE_DIR: stateDir },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let output = '';
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));

    expect(await exited(child)).toBe(1);
    expect(output).toContain('no Redis answers at redis://127.0.0.1:1');
  });
});
