import type { ChildProcess } from 'node:child_process';

import { PinoPretty } from 'pino-pretty';

import { createLogger, type Logger } from '@aso/shared';

/** How `npm start` shows the services' pino logs: one JSON object a line, or readable. */
export type LogFormat = 'pretty' | 'json';

export function logFormat(value: string | undefined): LogFormat {
  if (value === undefined || value === 'pretty') return 'pretty';
  if (value === 'json') return 'json';
  throw new Error(`ASO_LOG_FORMAT must be "pretty" or "json", not "${value}"`);
}

/** The child's stdout: inherited as JSON, or piped through pino-pretty. */
export function serviceStdout(format: LogFormat): 'inherit' | 'pipe' {
  return format === 'json' ? 'inherit' : 'pipe';
}

/**
 * Renders a service's log lines for a person: time, level, service, message, then
 * the fields (migrationId, stage, namespace, pod, ...) one a line. A stream per
 * child, so that lines of two services never interleave mid-line.
 */
export function prettifyOutput(child: ChildProcess, format: LogFormat): void {
  if (format === 'json' || child.stdout === null) return;
  child.stdout.pipe(prettyStream());
}

/** The logger of the local control plane, which runs inside `npm start` itself. */
export function clusterLogger(format: LogFormat, level: string): Logger {
  return createLogger('local-cluster', level, format === 'pretty' ? prettyStream() : undefined);
}

function prettyStream() {
  return PinoPretty({
    colorize: process.stdout.isTTY,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'pid,hostname,service',
    messageFormat: '{service} | {msg}',
  });
}
