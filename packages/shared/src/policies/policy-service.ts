import type { Registry } from 'prom-client';
import { z } from 'zod';

import { loadConfig, type BaseConfig } from '../config.ts';
import type { KubeClients } from '../kube.ts';
import type { Logger } from '../logger.ts';
import type { MigrationStore } from '../migration-store.ts';
import { planMigration } from '../preflight/read-plan.ts';
import { closeRedis, createRedis } from '../redis.ts';
import type { StageQueues } from '../stage-queues.ts';
import type { Policy } from './policy.ts';
import { loadPolicyFile } from './policy-file.ts';
import { DEFAULT_POD_COOLDOWN_SECONDS, evaluatePolicies } from './policy-evaluator.ts';
import { createPolicyMetrics } from './policy-metrics.ts';
import { startPolicyScheduler } from './policy-scheduler.ts';
import { PolicyStore } from './policy-store.ts';

export const policyConfigSchema = z.object({
  /**
   * A JSON or YAML file with a `policies` list, loaded and validated at start; its
   * policies are read-only through the API. Default: none (policies come from the API).
   */
  ASO_POLICIES_FILE: z.string().min(1).optional(),
  /** How often every policy is evaluated, in seconds. Default 30. */
  /**
   * After a policy moves a pod, how long no policy moves the new pod again, in
   * seconds: two policies with opposite targets cannot pass it back and forth. Default 600.
   */
  ASO_POLICY_POD_COOLDOWN_SECONDS: z.preprocess(
    (value) => (value === '' ? undefined : value),
    z.coerce
      .number()
      .int()
      .min(0)
      .max(7 * 24 * 3600)
      .default(DEFAULT_POD_COOLDOWN_SECONDS),
  ),
  ASO_POLICY_INTERVAL_SECONDS: z.preprocess(
    // Set but empty (ASO_POLICY_INTERVAL_SECONDS= in a unit file) means the default, not 0.
    (value) => (value === '' ? undefined : value),
    z.coerce.number().int().min(1).max(3600).default(30),
  ),
});

export type PolicyConfig = z.output<typeof policyConfigSchema>;

/** What a worker service lends the policy evaluator. */
export interface PolicyEvaluatorParts {
  config: BaseConfig;
  kube: KubeClients;
  logger: Logger;
  registry: Registry;
  store: MigrationStore;
  queues: StageQueues;
}

export interface RunningPolicyEvaluator {
  close(): Promise<void>;
}

/**
 * Reads the policy settings and file before anything starts, so that a bad file
 * stops the service with one line naming the field; returns the evaluator's start.
 */
export async function preparePolicyEvaluator(
  env: NodeJS.ProcessEnv = process.env,
): Promise<(parts: PolicyEvaluatorParts) => Promise<RunningPolicyEvaluator>> {
  const config = loadConfig(policyConfigSchema, env);
  const filePolicies =
    config.ASO_POLICIES_FILE === undefined ? null : await loadPolicyFile(config.ASO_POLICIES_FILE);

  return (parts) => startPolicyEvaluator(parts, config, filePolicies);
}

/**
 * The load policies' evaluator: syncs the file's policies into the store, then
 * evaluates every policy each interval (once across replicas) and starts the
 * migrations they call for, through the same submission as the gateway.
 */
export async function startPolicyEvaluator(
  parts: PolicyEvaluatorParts,
  config: PolicyConfig,
  filePolicies: Policy[] | null,
): Promise<RunningPolicyEvaluator> {
  const { kube, logger } = parts;
  const connection = createRedis(parts.config, 'producer', 'policies', logger);
  const workerConnection = createRedis(parts.config, 'worker', 'policies:worker', logger);
  const policies = new PolicyStore(connection, parts.config.ASO_KEY_PREFIX);
  const metrics = createPolicyMetrics(parts.registry);

  if (filePolicies !== null) {
    await policies.syncConfiguration(filePolicies);
    logger.info({ policies: filePolicies.map((p) => p.name) }, 'policies loaded from the file');
  }

  const scheduler = await startPolicyScheduler({
    workerConnection,
    connection,
    prefix: parts.config.ASO_KEY_PREFIX,
    intervalSeconds: config.ASO_POLICY_INTERVAL_SECONDS,
    logger,
    onSkipped: () => {
      metrics.observeRun(0, 'skipped');
    },
    evaluate: async () => {
      const started = performance.now();
      try {
        await evaluatePolicies({
          kube,
          policies,
          submission: {
            store: parts.store,
            queues: parts.queues,
            planner: (request) => planMigration(kube, request),
          },
          metrics,
          logger,
          now: () => new Date(),
          intervalSeconds: config.ASO_POLICY_INTERVAL_SECONDS,
          podCooldownSeconds: config.ASO_POLICY_POD_COOLDOWN_SECONDS,
        });
        metrics.observeRun((performance.now() - started) / 1000, 'evaluated');
      } catch (error) {
        metrics.observeRun((performance.now() - started) / 1000, 'failed');
        throw error;
      }
    },
  });

  return {
    async close() {
      await scheduler.close();
      await Promise.all([connection, workerConnection].map(closeRedis));
    },
  };
}
