import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export type ServiceName = 'api' | 'capture-worker' | 'pod-worker' | 'metrics-worker';

/** One pino line of a service, as JSON. */
export interface LogLine {
  level: string;
  msg: string;
  migrationId?: string;
  stage?: string;
  [field: string]: unknown;
}

export interface ServiceExit {
  code: number | null;
  signal: NodeJS.Signals | null;
  /** When the process ended, epoch ms. */
  at: number;
}

type LogWaiter = { match: (line: LogLine) => boolean; resolve: (line: LogLine) => void };

const READY_TIMEOUT_MS = 30_000;
const KEPT_LINES = 400;

/** Line that each main module logs once it takes work. */
const READY_MESSAGE: Record<ServiceName, string> = {
  api: 'api listening',
  'capture-worker': 'worker started',
  'pod-worker': 'worker started',
  'metrics-worker': 'worker started',
};

/**
 * A service running from its main module in a child process, exactly as deployed,
 * so a test can SIGKILL or SIGTERM it at a chosen moment. Its JSON log lines are
 * kept and can be awaited: they say when it is ready and where a stage has got to.
 */
export class ServiceProcess {
  readonly label: string;
  readonly exited: Promise<ServiceExit>;
  private readonly child: ChildProcess;
  private readonly lines: LogLine[] = [];
  private readonly raw: string[] = [];
  private waiters: LogWaiter[] = [];
  private done = false;

  private constructor(service: ServiceName, label: string, env: NodeJS.ProcessEnv) {
    this.label = label;
    this.child = spawn(process.execPath, [join(ROOT, 'services', service, 'src', 'main.ts')], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    this.exited = new Promise((resolve) => {
      this.child.once('exit', (code, signal) => {
        this.done = true;
        resolve({ code, signal, at: Date.now() });
      });
    });
    createInterface({ input: this.child.stdout as NodeJS.ReadableStream }).on('line', (line) => {
      this.take(line);
    });
    createInterface({ input: this.child.stderr as NodeJS.ReadableStream }).on('line', (line) => {
      this.keepRaw(line);
    });
  }

  /** Starts the service and resolves once it logged that it is ready. */
  static async start(
    service: ServiceName,
    label: string,
    env: Record<string, string>,
  ): Promise<ServiceProcess> {
    const started = new ServiceProcess(service, label, { ...baseEnv(), ...env });
    await started.waitForLog((line) => line.msg === READY_MESSAGE[service], READY_TIMEOUT_MS);
    return started;
  }

  get pid(): number {
    return this.child.pid ?? -1;
  }

  hasExited(): boolean {
    return this.done;
  }

  /** How many lines it logged so far; a mark for `waitForLog`. */
  lineCount(): number {
    return this.lines.length;
  }

  /** The first matching line from line `after` (default: the start of the process) on. */
  waitForLog(match: (line: LogLine) => boolean, timeoutMs: number, after = 0): Promise<LogLine> {
    const seen = this.lines.slice(after).find(match);
    if (seen) return Promise.resolve(seen);

    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((waiter) => waiter.resolve !== settle);
        reject(
          new Error(`${this.label}: no matching log line within ${timeoutMs} ms${this.tail()}`),
        );
      }, timeoutMs);
      const settle = (line: LogLine) => {
        clearTimeout(timer);
        resolve(line);
      };
      void this.exited.then(() => {
        clearTimeout(timer);
        reject(new Error(`${this.label} exited before the awaited log line${this.tail()}`));
      });
      this.waiters.push({ match, resolve: settle });
    });
  }

  /** Every line logged so far that matches. */
  logged(match: (line: LogLine) => boolean): LogLine[] {
    return this.lines.filter(match);
  }

  signal(signal: 'SIGKILL' | 'SIGTERM'): void {
    if (!this.done) this.child.kill(signal);
  }

  /** Ends the process (SIGKILL: nothing of the test depends on a clean stop here). */
  async stop(): Promise<void> {
    this.signal('SIGKILL');
    await this.exited;
  }

  private take(text: string): void {
    this.keepRaw(text);
    let line: LogLine;
    try {
      line = JSON.parse(text) as LogLine;
    } catch {
      return;
    }
    this.lines.push(line);

    const matched = this.waiters.filter((waiter) => waiter.match(line));
    this.waiters = this.waiters.filter((waiter) => !matched.includes(waiter));
    for (const waiter of matched) waiter.resolve(line);
  }

  private keepRaw(text: string): void {
    this.raw.push(text);
    if (this.raw.length > KEPT_LINES) this.raw.shift();
  }

  private tail(): string {
    return `; last output:\n${this.raw.slice(-15).join('\n')}`;
  }
}

/** The parent's environment without settings of the system that must come from the test. */
function baseEnv(): NodeJS.ProcessEnv {
  const inherited = Object.entries(process.env).filter(
    ([key]) => !key.startsWith('ASO_') && !key.startsWith('WORKER_') && !key.startsWith('REDIS_'),
  );
  return {
    ...Object.fromEntries(inherited),
    LOG_LEVEL: 'info',
    METRICS_HOST: '127.0.0.1',
    METRICS_PORT: '0',
  };
}

/** A log line of a stage of one migration. */
export function stageLine(migrationId: string, msg: string) {
  return (line: LogLine): boolean => line.migrationId === migrationId && line.msg === msg;
}
