import { pino, type DestinationStream, type Logger } from 'pino';

import { serialiseError, withoutCredentials, withoutCredentialsInText } from './log-credentials.ts';
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
    hooks: { logMethod: scrubbedMessage },
  };
  const logger = destination ? pino(options, destination) : pino(options);
  return withScrubbedBindings(logger);
}

/**
 * A line's message and its format arguments, with credentials in their text replaced
 * (the fields object is the log formatter's). The arguments are copied only when a
 * text changes: this runs for every line.
 */
function scrubbedMessage(this: Logger, args: Parameters<pino.LogFn>, method: pino.LogFn): void {
  let scrubbed: unknown[] | undefined;
  args.forEach((arg: unknown, index) => {
    if (typeof arg !== 'string') return;
    const text = withoutCredentialsInText(arg);
    if (text === arg) return;
    scrubbed ??= [...args];
    scrubbed[index] = text;
  });
  method.apply(this, (scrubbed ?? args) as Parameters<pino.LogFn>);
}

/**
 * pino hands a child's bindings to no formatter, so `child` and `setBindings` are
 * wrapped; children are created from their parent's prototype and inherit them.
 */
function withScrubbedBindings(logger: Logger): Logger {
  /* eslint-disable @typescript-eslint/unbound-method -- called with each child as `this` */
  const child = logger.child;
  const setBindings = logger.setBindings;
  /* eslint-enable @typescript-eslint/unbound-method */
  const scrubbedChild = function (this: Logger, bindings: pino.Bindings, options?: never) {
    return child.call(this, withoutCredentials(bindings), options);
  };
  logger.child = scrubbedChild as Logger['child'];
  logger.setBindings = function (this: Logger, bindings: pino.Bindings) {
    setBindings.call(this, withoutCredentials(bindings));
  };
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
