import { pino, type DestinationStream, type Logger } from 'pino';

import { serialiseError, withoutCredentials } from './log-credentials.ts';
import type { MigrationRecord, Stage } from './migration.ts';

export type { Logger } from 'pino';

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
    // Credentials are scrubbed from every line's fields (log-credentials.ts) and, below,
    // from every child's bindings; the API token itself is never logged on purpose.
    formatters: { level: (label: string) => ({ level: label }), log: withoutCredentials },
    serializers: { err: serialiseError },
  };
  const logger = destination ? pino(options, destination) : pino(options);
  return withScrubbedBindings(logger);
}

/**
 * pino hands a child's bindings to no formatter, so `child` is wrapped; children are
 * created from their parent's prototype and so inherit the wrapper.
 */
function withScrubbedBindings(logger: Logger): Logger {
  // eslint-disable-next-line @typescript-eslint/unbound-method -- called with each child as `this`
  const child = logger.child;
  const scrubbedChild = function (this: Logger, bindings: pino.Bindings, options?: never) {
    return child.call(this, withoutCredentials(bindings), options);
  };
  logger.child = scrubbedChild as Logger['child'];
  return logger;
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
