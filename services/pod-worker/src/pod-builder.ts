import type {
  V1Container,
  V1NodeSelectorRequirement,
  V1NodeSelectorTerm,
  V1Pod,
  V1PodSpec,
  V1Volume,
} from '@kubernetes/client-node';

import { ANNOTATION_WORKLOAD, CHECKPOINT_MOUNT_PATH } from '@aso/shared';

import {
  ANNOTATION_MIGRATED_FROM,
  ANNOTATION_SOURCE_NODE,
  CHECKPOINT_VOLUME,
  HOSTNAME_LABEL,
  LABEL_MIGRATION_ID,
} from './labels.ts';

export interface NewPodPlan {
  name: string;
  migrationId: string;
  keptContainers: string[];
  /** Value of the target node's kubernetes.io/hostname label. */
  targetHostname: string;
  /** Checkpoint claim to mount, if the migration preserves a volume. */
  claimName: string | null;
  /** The workload, recorded on the new pod for its next migration. */
  workload: string;
}

/**
 * Builds the pod that replaces `original` on the target node: same workload, only
 * the containers that still have work, and no field the API server owns or would
 * reject on create. Placement goes through the scheduler (a required node
 * affinity) rather than spec.nodeName, so taints and capacity are checked as for
 * any other pod.
 */
export function buildNewPod(original: V1Pod, plan: NewPodPlan): V1Pod {
  const source = original.spec;
  if (!source) throw new Error('the original pod has no spec');

  const spec = structuredClone(source);
  stripServerOwnedFields(spec);
  spec.containers = spec.containers.filter((c) => plan.keptContainers.includes(c.name));
  removeServiceAccountToken(spec);
  placeOnHost(spec, plan.targetHostname);
  if (plan.claimName) mountCheckpoint(spec, plan.claimName);

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: plan.name,
      namespace: original.metadata?.namespace ?? 'default',
      labels: { ...original.metadata?.labels, [LABEL_MIGRATION_ID]: plan.migrationId },
      annotations: {
        ...withoutLastApplied(original.metadata?.annotations),
        [ANNOTATION_MIGRATED_FROM]: original.metadata?.name ?? '',
        [ANNOTATION_SOURCE_NODE]: source.nodeName ?? '',
        [ANNOTATION_WORKLOAD]: plan.workload,
      },
    },
    spec,
  };
}

/** Drops what the API server or the kubelet owns, or would refuse on create. */
/**
 * kubectl's record of the last applied manifest describes the original (its node,
 * its dropped containers); copied, it would mislead the next `kubectl apply`.
 */
function withoutLastApplied(
  annotations: Record<string, string> | undefined,
): Record<string, string> {
  const { 'kubectl.kubernetes.io/last-applied-configuration': _applied, ...rest } =
    annotations ?? {};
  return rest;
}

export function stripServerOwnedFields(spec: V1PodSpec): void {
  delete spec.nodeName;
  delete spec.ephemeralContainers;

  // The Priority admission plugin computes priority from priorityClassName and
  // refuses a pod that also carries the number.
  if (spec.priorityClassName) delete spec.priority;
}

/**
 * The token volume that the ServiceAccount admission plugin injected into the
 * original is dropped; the plugin injects a fresh one into the new pod.
 */
export function removeServiceAccountToken(spec: V1PodSpec): void {
  const injected = new Set(
    (spec.volumes ?? []).filter(isInjectedTokenVolume).map((volume) => volume.name),
  );
  if (injected.size === 0) return;

  spec.volumes = (spec.volumes ?? []).filter((volume) => !injected.has(volume.name));
  for (const container of allContainers(spec)) {
    if (container.volumeMounts) {
      container.volumeMounts = container.volumeMounts.filter((m) => !injected.has(m.name));
    }
  }
}

function isInjectedTokenVolume(volume: V1Volume): boolean {
  const projectsToken = volume.projected?.sources?.some((s) => s.serviceAccountToken) ?? false;
  return volume.name.startsWith('kube-api-access-') && projectsToken;
}

/**
 * Requires the node's hostname, ANDed into every existing required term (the
 * terms are ORed), after removing whatever pinned the pod to its old host.
 */
export function placeOnHost(spec: V1PodSpec, hostname: string): void {
  if (spec.nodeSelector) {
    const { [HOSTNAME_LABEL]: _pinned, ...rest } = spec.nodeSelector;
    spec.nodeSelector = rest;
  }

  const onTarget: V1NodeSelectorRequirement = {
    key: HOSTNAME_LABEL,
    operator: 'In',
    values: [hostname],
  };
  const nodeAffinity = (spec.affinity ??= {}).nodeAffinity ?? {};
  const existing = nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms;
  const terms: V1NodeSelectorTerm[] = existing?.length ? existing : [{}];

  nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution = {
    nodeSelectorTerms: terms.map((term) => withoutHostPinning(term, onTarget)),
  };
  spec.affinity.nodeAffinity = nodeAffinity;
}

function withoutHostPinning(
  term: V1NodeSelectorTerm,
  onTarget: V1NodeSelectorRequirement,
): V1NodeSelectorTerm {
  const expressions = (term.matchExpressions ?? []).filter((e) => e.key !== HOSTNAME_LABEL);
  const fields = (term.matchFields ?? []).filter((f) => f.key !== 'metadata.name');
  return {
    matchExpressions: [...expressions, onTarget],
    ...(fields.length > 0 ? { matchFields: fields } : {}),
  };
}

/** Mounts the checkpoint claim in every kept container, replacing an earlier one. */
function mountCheckpoint(spec: V1PodSpec, claimName: string): void {
  const volume: V1Volume = { name: CHECKPOINT_VOLUME, persistentVolumeClaim: { claimName } };
  spec.volumes = [...(spec.volumes ?? []).filter((v) => v.name !== CHECKPOINT_VOLUME), volume];

  for (const container of spec.containers) {
    const mounts = (container.volumeMounts ?? []).filter((m) => m.name !== CHECKPOINT_VOLUME);
    container.volumeMounts = [
      ...mounts,
      { name: CHECKPOINT_VOLUME, mountPath: CHECKPOINT_MOUNT_PATH },
    ];
  }
}

function allContainers(spec: V1PodSpec): V1Container[] {
  return [...spec.containers, ...(spec.initContainers ?? [])];
}
