import { AppsV1Api } from '@kubernetes/client-node';

import type {
  KubeClients,
  MigrationRecord,
  StageContext,
  StageHandler,
  SwitchStrategy,
} from '@aso/shared';

import { carryForward } from './carry-forward.ts';
import { recordStep } from './migration-events.ts';
import { readPod } from './new-pod.ts';
import { asOriginal } from './original-steps.ts';
import { breakBeforeMake } from './strategies/break-before-make.ts';
import { makeBeforeBreak } from './strategies/make-before-break.ts';
import { replicaSetHandoff } from './strategies/replicaset-handoff.ts';
import type { PodStageSettings, SwitchContext, SwitchStrategyHandler } from './switch-context.ts';

export type { PodStageSettings } from './switch-context.ts';

const STRATEGIES: Record<SwitchStrategy, SwitchStrategyHandler> = {
  'make-before-break': makeBeforeBreak,
  'break-before-make': breakBeforeMake,
  'replicaset-handoff': replicaSetHandoff,
};

/**
 * The pod stage: switches from the original to a new pod on the target, the way the
 * capture stage chose (details.strategy), and hands the migration to the metrics
 * stage. Every step first looks at what already exists, so a retry or a second
 * worker picks up where the last attempt stopped.
 */
export function createPodStage(kube: KubeClients, settings: PodStageSettings): StageHandler {
  const apps = kube.kubeConfig.makeApiClient(AppsV1Api);
  const switchContext = (stage: StageContext): SwitchContext => ({ kube, apps, settings, stage });

  return {
    stage: 'pod',
    // Once the original is on its way out, a retry that starts late must finish the
    // switch (or, for break-before-make, restore the original), not abandon it.
    honoursDeadline: (record) => record.details.removal === null,

    async run(context) {
      const strategy = strategyOf(context.record);
      context.log.info({ strategy }, 'switching pods');

      await announceStart(switchContext(context), strategy);
      await STRATEGIES[strategy].run(switchContext(context));
      return { next: { stage: 'metrics', delayMs: settings.stabilisationDelayMs } };
    },

    async rollback(context) {
      return STRATEGIES[strategyOf(context.record)].rollback(switchContext(context));
    },

    async salvage(context, error) {
      return carryForward(switchContext(context), strategyOf(context.record), error);
    },
  };
}

/** A record written before capture chose a strategy switches as the stage always did. */
function strategyOf(record: MigrationRecord): SwitchStrategy {
  return record.details.strategy ?? 'make-before-break';
}

/** Tells the original, on the stage's first attempt, that its migration begins. */
async function announceStart(context: SwitchContext, strategy: SwitchStrategy): Promise<void> {
  const { record } = context.stage;
  if (record.stages.pod.attempts > 1 || record.progress.new_pod_created) return;

  const {
    pod_namespace: namespace,
    pod_name: name,
    source_node: source,
    target_node: target,
  } = record.request;
  const original = asOriginal(record, await readPod(context.kube, namespace, name));
  if (!original) return;

  await recordStep(
    context,
    [original],
    'MigrationStarted',
    `moving this pod from ${source} to ${target} (${strategy})`,
  );
}
