import type { Registry } from 'prom-client';

import type {
  Logger,
  MigrationRequest,
  MigrationStore,
  PlannedMigration,
  StageQueues,
} from '@aso/shared';

/** Runs the pre-flight against the cluster; throws the refusal's error. */
export type Planner = (request: MigrationRequest) => Promise<PlannedMigration>;

/** Everything the HTTP layer needs, injected so that tests can build the app in-process. */
export interface ApiDeps {
  store: MigrationStore;
  queues: StageQueues;
  planner: Planner;
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
