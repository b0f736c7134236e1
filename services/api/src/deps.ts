import type { Registry } from 'prom-client';

import type { Logger, MigrationStore, StageQueues } from '@aso/shared';

/** Everything the HTTP layer needs, injected so that tests can build the app in-process. */
export interface ApiDeps {
  store: MigrationStore;
  queues: StageQueues;
  logger: Logger;
  registry: Registry;
  /** Readiness checks by dependency name; each throws when its dependency is unusable. */
  checks: Record<string, () => Promise<void>>;
  now?: () => Date;
  newId?: () => string;
}

export interface ApiEnv {
  Variables: { requestId: string; log: Logger };
}
