import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';

import type { MigrationRecord } from '@aso/shared';

import { OrchestratorHarness } from '../support/orchestrator-harness.ts';

// The aso command-line client against the whole system on the local control plane,
// run as an operator runs it: the npm bin, in a pseudo-terminal for the live view.

const ASO = fileURLToPath(new URL('../../node_modules/.bin/aso', import.meta.url));

let h: OrchestratorHarness;

beforeAll(async () => {
  h = await OrchestratorHarness.start('cli', inject('kubeconfigPath'));
});

afterAll(async () => {
  await h.stop();
});

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/** The environment an operator's shell would give it: Node 24 first, the API's URL and token. */
function cliEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  return {
    ...process.env,
    PATH: `${dirname(process.execPath)}:${process.env['PATH'] ?? ''}`,
    ASO_API_URL: h.system.apiUrl,
    ASO_API_TOKEN: h.system.apiToken,
    ...extra,
  };
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<Run> {
  return new Promise((resolve) => {
    execFile(file, args, { env, timeout: 110_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

function aso(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return run(ASO, args, cliEnv(env));
}

/**
 * Runs aso in a pseudo-terminal through util-linux's script(1), which passes on the
 * command's exit code (-e); the terminal is sized first, as a real one would be.
 */
function asoInTerminal(args: string[]): Promise<Run> {
  const command = ['stty cols 120 rows 40;', ASO, ...args.map(shellQuote)].join(' ');
  return run('script', ['-qfec', command, '/dev/null'], cliEnv());
}

function shellQuote(word: string): string {
  return `'${word.replace(/'/g, `'\\''`)}'`;
}

/** A loopback port nothing listens on: bound, then closed. */
async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((done) => server.listen(0, '127.0.0.1', done));
  const address = server.address();
  await new Promise((done) => server.close(done));
  if (address === null || typeof address === 'string') throw new Error('no port');
  return address.port;
}

const ESC = String.fromCharCode(27);

/** How often the live view went back up to redraw: ESC[nF (lines up) then ESC[J (erase). */
function redraws(output: string): number {
  return output
    .split(ESC)
    .filter((part, i, parts) => /^\[\d+F$/.test(part) && parts[i + 1]?.startsWith('[J')).length;
}

async function podOnWorker1(prefix: string, annotations: Record<string, string> = {}) {
  const pod = await h.podOn('worker-1', { prefix, annotations });
  return pod.metadata?.name ?? '';
}

/** The arguments that move (or plan to move) a pod of the test namespace to worker-2. */
function toWorker2(command: 'migrate' | 'plan', pod: string, ...options: string[]): string[] {
  return [command, pod, '-n', h.namespace.name, '--to', 'worker-2', ...options];
}

describe('aso migrate', () => {
  it('shows a live progress bar per stage in a terminal and ends with the outcome', async () => {
    const name = await podOnWorker1('cli-live');

    // No --from: the API finds the node the pod runs on.
    const { code, stdout } = await asoInTerminal(toWorker2('migrate', name));

    expect(code, stdout).toBe(0);
    // Each frame after the first moves the cursor back to redraw in place.
    expect(redraws(stdout)).toBeGreaterThanOrEqual(5);
    expect(stdout).toMatch(/ {2}pod {5}\[#{12}-{18}\] {2}40% {2}new pod \S+ on worker-2 created/);
    expect(stdout).toMatch(/ {2}capture \[#{30}\] 100% {2}done/);
    expect(stdout).toMatch(/ {2}metrics \[#{30}\] 100% {2}done/);
    expect(stdout).toMatch(
      new RegExp(
        `completed in [\\d.]+ s: ${h.namespace.name}/${name} is now ${name}-m[0-9a-f]{6} on worker-2`,
      ),
    );
    expect(stdout).toMatch(/requested {2}cpu \d+m -> \d+m/);

    const pod = await h.readPodOrNull(name);
    expect(pod).toBeNull();
  });

  it('prints one line per event when not on a terminal, and exits 1 when the migration fails', async () => {
    // Never Ready on any node: the pod stage waits out the shortest timeout and rolls back.
    const name = await podOnWorker1('cli-fails', { 'sim.aso.dev/waiting': 'app=ImagePullBackOff' });

    const { code, stdout } = await aso(
      toWorker2('migrate', name, '--from', 'worker-1', '--timeout', '30'),
    );

    expect(code, stdout).toBe(1);
    const lines = stdout.trim().split('\n');
    expect(lines[0]).toMatch(
      new RegExp(`^migration [0-9a-f-]{36}  ${h.namespace.name}/${name} worker-1 -> worker-2$`),
    );
    expect(lines.some((line) => /^\d\d:\d\d:\d\d pod {5}new-pod-created {3}/.test(line))).toBe(
      true,
    );
    expect(lines.some((line) => /^\d\d:\d\d:\d\d pod {5}failed {12}/.test(line))).toBe(true);
    expect(stdout).not.toContain(ESC);
    expect(lines.at(-1)).toMatch(
      /^failed in [\d.]+ s: new-pod-not-ready in the pod stage: .*; rolled back, the original is as it was$/,
    );
    expect((await h.readPodOrNull(name))?.metadata?.deletionTimestamp).toBeUndefined();
  });
});

describe('aso for scripts', () => {
  it('answers one JSON document per command with --output json', async () => {
    const name = await podOnWorker1('cli-json');

    const plan = await aso(toWorker2('plan', name, '-o', 'json'));
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout)).toMatchObject({
      dry_run: true,
      request: { pod_name: name, source_node: 'worker-1' },
      plan: { source_node: 'worker-1', target_node: 'worker-2' },
    });

    const started = await aso(toWorker2('migrate', name, '--detach', '-o', 'json'));
    expect(started.code, started.stderr).toBe(0);
    const accepted = JSON.parse(started.stdout) as MigrationRecord;
    expect(accepted.request).toMatchObject({ pod_name: name, source_node: 'worker-1' });

    const got = await aso(['get', accepted.migration_id, '-o', 'json']);
    expect((JSON.parse(got.stdout) as MigrationRecord).migration_id).toBe(accepted.migration_id);
    const listed = await aso(['list', '--limit', '5', '-o', 'json']);
    const ids = (JSON.parse(listed.stdout) as { items: MigrationRecord[] }).items.map(
      (r) => r.migration_id,
    );
    expect(ids).toContain(accepted.migration_id);

    const finished = await h.finished(accepted.migration_id);
    expect(finished.status).toBe('completed');
    const text = await aso(['get', accepted.migration_id]);
    expect(text.stdout).toMatch(/^status {5}completed \(ended /m);
    expect(text.stdout).toMatch(new RegExp(`^new pod {4}${name}-m[0-9a-f]{6} on worker-2`, 'm'));
  });

  it('exits 3 with the API detail for an unknown migration, also as JSON', async () => {
    const id = randomUUID();

    const text = await aso(['get', id]);
    const json = await aso(['cancel', id, '-o', 'json']);

    expect(text.code).toBe(3);
    expect(text.stderr).toBe(`aso: no migration with id ${id} (migration-not-found, HTTP 404)\n`);
    expect(json.code).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({
      error: { exit_code: 3, problem: { status: 404, code: 'migration-not-found' } },
    });
  });

  it('exits 2 on bad arguments, before any request', async () => {
    const missing = await aso(['migrate', 'some-pod']);
    const unknown = await aso(['migrate', 'some-pod', '--to', 'worker-2', '--colour']);
    const badNumber = await aso(['list', '--limit', 'many']);
    const bare = await aso([]);
    const malformedId = await aso(['get', 'nonexist']);

    expect(missing).toMatchObject({ code: 2, stdout: '' });
    expect(missing.stderr).toMatch(/^aso: --to is required; usage: aso migrate POD --to NODE/);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/Unknown option '--colour'/);
    expect(badNumber.stderr).toBe(
      'aso: --limit must be a whole number from 1 to 500, not "many"\n',
    );
    expect(bare).toMatchObject({ code: 2, stdout: '' });
    expect(bare.stderr).toMatch(/^aso: a command is missing; usage: aso COMMAND/);
    expect(malformedId).toMatchObject({ code: 2, stdout: '' });
    expect(malformedId.stderr).toMatch(/^aso: "nonexist" is not a migration id/);
  });

  it('exits 3 naming where the refused token came from', async () => {
    const { code, stderr } = await aso(['list'], { ASO_API_TOKEN: 'not-the-right-token-at-all' });

    expect(code).toBe(3);
    expect(stderr).toMatch(
      new RegExp(
        `^aso: the API at ${h.system.apiUrl} does not accept the token from ASO_API_TOKEN: `,
      ),
    );
  });

  it('exits 4 naming the URL when nothing listens there', async () => {
    const url = `http://127.0.0.1:${await closedPort()}`;

    const { code, stderr } = await aso(['list'], { ASO_API_URL: url });

    expect(code).toBe(4);
    expect(stderr).toMatch(
      new RegExp(`^aso: cannot reach the API at ${url}: connection refused\\.`),
    );
  });
});

describe('aso batch', () => {
  it('migrates the pods a selector picks and follows them to the end', async () => {
    const set = `cli-set-${randomUUID().slice(0, 6)}`;
    await Promise.all(
      ['a', 'b'].map((suffix) =>
        h.podOn('worker-1', { prefix: `${set}-${suffix}`, labels: { set } }),
      ),
    );

    const started = await aso([
      'batch',
      '-l',
      `set=${set}`,
      '-n',
      h.namespace.name,
      '--to',
      'worker-2',
      '--max-in-flight',
      '1',
      '--timeout',
      '120',
      '-o',
      'json',
    ]);

    expect(started.code, started.stderr).toBe(0);
    const batch = JSON.parse(started.stdout) as {
      batch_id: string;
      status: string;
      members: { status: string; target_node: string }[];
    };
    expect(batch.status).toBe('completed');
    expect(batch.members.map((m) => [m.status, m.target_node])).toEqual([
      ['completed', 'worker-2'],
      ['completed', 'worker-2'],
    ]);

    const shown = await aso(['batch', 'get', batch.batch_id]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toContain(
      `batch ${batch.batch_id}  ${h.namespace.name}: set=${set} -> worker-2  completed`,
    );
    expect(shown.stdout).toMatch(/\[#{30}\] 2\/2 ended; completed 2; at most 1 in flight/);
  });
});
