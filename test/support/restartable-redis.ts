import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { eventually } from '../setup/kube.ts';
import { freePort, pingOnce } from './redis-server.ts';

/**
 * A redis-server of the test's own on a free loopback port, persisting every write
 * to an append-only file before it answers (appendfsync always), so that it can be
 * killed and started again with the same data, as a crashed Redis would come back.
 * The shared Redis on 6379 is never touched.
 */
export class RestartableRedis {
  readonly port: number;
  private readonly dir: string;
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();

  private constructor(port: number, dir: string) {
    this.port = port;
    this.dir = dir;
  }

  static async start(): Promise<RestartableRedis> {
    const server = new RestartableRedis(
      await freePort(),
      await mkdtemp(join(tmpdir(), 'aso-redis-')),
    );
    await server.launch();
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** SIGKILLs the server, as a crash would end it. */
  async kill(): Promise<void> {
    this.child?.kill('SIGKILL');
    await this.exited;
  }

  /** Starts it again on the same port from the same directory, once it answers PING. */
  async launch(): Promise<void> {
    const child = spawn(
      'redis-server',
      [
        '--port',
        String(this.port),
        '--bind',
        '127.0.0.1',
        '--dir',
        this.dir,
        '--appendonly',
        'yes',
        '--appendfsync',
        'always',
        '--save',
        '',
        '--maxmemory-policy',
        'noeviction',
      ],
      { stdio: 'ignore' },
    );
    this.child = child;
    this.exited = new Promise((resolve) => {
      child.once('exit', () => {
        resolve();
      });
    });
    await eventually(() => this.answers(), {
      what: `redis-server on ${this.port}`,
      timeoutMs: 20_000,
    });
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }

  private async answers(): Promise<boolean> {
    await pingOnce(this.url);
    return true;
  }
}
