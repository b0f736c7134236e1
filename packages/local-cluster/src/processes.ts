import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import type { Readable } from 'node:stream';
import type { Logger } from 'pino';
import { onParentExit } from './exit-hooks.ts';

export interface ProcessExit {
  code: number | null;
  signal: NodeJS.Signals | null;
}

export interface ManagedProcess {
  readonly name: string;
  readonly exited: Promise<ProcessExit>;
  hasExited(): boolean;
  /** The last output lines, for error messages when the process dies. */
  recentOutput(): string[];
  stop(graceMs: number): Promise<void>;
}

export interface ProcessSpec {
  name: string;
  command: string;
  args: string[];
  logger: Logger;
}

const KEPT_OUTPUT_LINES = 40;

function keepLines(stream: Readable, lines: string[], log: (line: string) => void): void {
  createInterface({ input: stream }).on('line', (line) => {
    lines.push(line);
    if (lines.length > KEPT_OUTPUT_LINES) {
      lines.shift();
    }
    log(line);
  });
}

function delay(ms: number): Promise<'timeout'> {
  return new Promise((resolve) => {
    setTimeout(() => {
      resolve('timeout');
    }, ms).unref();
  });
}

/**
 * Starts a control-plane binary in its own process group (detached), so a Ctrl-C in the
 * terminal reaches only the parent, which then stops the components in order; the exit
 * hook kills them if the parent dies first.
 */
export function startProcess(spec: ProcessSpec): ManagedProcess {
  const child = spawn(spec.command, spec.args, {
    detached: true,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output: string[] = [];
  let done = false;

  keepLines(child.stdout, output, (line) => {
    spec.logger.debug(line);
  });
  keepLines(child.stderr, output, (line) => {
    spec.logger.debug(line);
  });

  const killOnParentExit = onParentExit(() => {
    if (!done) {
      child.kill('SIGKILL');
    }
  });
  const exited = new Promise<ProcessExit>((resolve) => {
    child.once('error', (error) => {
      output.push(`failed to start: ${error.message}`);
      done = true;
      killOnParentExit();
      resolve({ code: null, signal: null });
    });
    child.once('exit', (code, signal) => {
      done = true;
      killOnParentExit();
      resolve({ code, signal });
    });
  });

  const stop = async (graceMs: number): Promise<void> => {
    if (done) {
      return;
    }

    child.kill('SIGTERM');
    if ((await Promise.race([exited, delay(graceMs)])) === 'timeout') {
      spec.logger.warn({ graceMs }, 'did not stop after SIGTERM, sending SIGKILL');
      child.kill('SIGKILL');
    }
    await exited;
  };

  return {
    name: spec.name,
    exited,
    hasExited: () => done,
    recentOutput: () => [...output],
    stop,
  };
}

/** Error text for a component that exited while it was expected to run. */
export function describeExit(process: ManagedProcess, exit: ProcessExit): string {
  const how = exit.signal === null ? `code ${String(exit.code)}` : `signal ${exit.signal}`;
  const tail = process.recentOutput().slice(-15).join('\n');
  return `${process.name} exited early (${how}). Last output:\n${tail}`;
}
