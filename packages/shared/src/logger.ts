import { pino, type DestinationStream, type Logger } from 'pino';

import type { MigrationRecord, Stage } from './migration.ts';

export type { Logger } from 'pino';

/**
 * Fields that may hold a credential, wherever a header object or a config ends up
 * in a log line (a request, an error's request options). Each `*` of a pino path
 * stands for exactly one level, hence the paths at each depth.
 */
export const REDACTED_LOG_PATHS = [
  'authorization',
  'Authorization',
  'headers.authorization',
  'headers.Authorization',
  '*.authorization',
  '*.Authorization',
  '*.headers.authorization',
  '*.headers.Authorization',
  '*.*.headers.authorization',
  '*.*.headers.Authorization',
  'req.headers.cookie',
  'token',
  '*.token',
  'password',
  '*.password',
];

/** @param destination where lines go; stdout unless a test captures them. */
export function createLogger(
  service: string,
  level: string,
  destination?: DestinationStream,
): Logger {
  const options = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: REDACTED_LOG_PATHS, censor: '[redacted]' },
  };
  return destination ? pino(options, destination) : pino(options);
}

/** The fields every log line about a migration carries, so that one query finds its story. */
export interface MigrationLogFields {
  migrationId: string;
  /** The stage at work, or null before the first stage and after the last. */
  stage: Stage | null;
  namespace: string;
  pod: string;
}

export function migrationLogFields(record: MigrationRecord): MigrationLogFields {
  return {
    migrationId: record.migration_id,
    stage: record.stage,
    namespace: record.request.pod_namespace,
    pod: record.request.pod_name,
  };
}
