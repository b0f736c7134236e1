import type { Registry } from 'prom-client';

import type { Logger, MigrationStore, Planner, PolicyStore, StageQueues } from '@aso/shared';

import type { ApiToken, ApiTokens } from './api-tokens.ts';
import type { BatchStore } from './batches/batch-store.ts';
import type { ClusterView } from './batches/cluster-view.ts';
import type { RateLimiter } from './rate-limit.ts';
import type { EventStreamSettings } from './routes/migration-events.ts';

export type { Planner } from '@aso/shared';

/** Everything the HTTP layer needs, injected so that tests can build the app in-process. */
export interface ApiDeps {
  store: MigrationStore;
  queues: StageQueues;
  planner: Planner;
  logger: Logger;
  registry: Registry;
  /** Readiness checks by dependency name; each throws when its dependency is unusable. */
  checks: Record<string, () => Promise<void>>;
  /** The bearer tokens the API accepts. Required: there is no unauthenticated API. */
  tokens: ApiTokens;
  /** Counts requests per token; without it nothing is limited. */
  rateLimiter?: RateLimiter | undefined;
  /** The load policies; without it the /api/v1/policies routes are absent. */
  policies?: PolicyStore | undefined;
  /** The cluster as batches and drains see it; without it (or `batches`) their routes are absent. */
  cluster?: ClusterView | undefined;
  /** Batch and drain records. */
  batches?: BatchStore | undefined;
  /** Aborted when the gateway stops: open event streams end, so that the server can close. */
  stopping?: AbortSignal | undefined;
  /** How event streams poll and keep alive; the defaults of migration-events.ts otherwise. */
  eventStream?: Partial<EventStreamSettings> | undefined;
  /** Namespaces migrations may be requested in; without it, every namespace. */
  allowedNamespaces?: ReadonlySet<string> | undefined;
  /** The capture workers' per-source-node cap, which bounds a drain's members in flight. */
  maxInFlightPerNode?: number | undefined;
  now?: () => Date;
  newId?: () => string;
}

export interface ApiEnv {
  /** `token` is set on every route but the probes, once the bearer token is checked. */
  Variables: {
    requestId: string;
    /** The request's logger once made; read it with request-log.ts's requestLog. */
    log: Logger | undefined;
    logBase: Logger;
    logFields: LogFields;
    token: ApiToken;
  };
}

/** What a request's log lines say it is about, beside their own fields. */
export type LogFields = Record<string, unknown>;
