import type { V1LabelSelector, V1Pod } from '@kubernetes/client-node';

import { ReplicaSetHandoffError } from './errors.ts';
import { ANNOTATION_HANDOFF_LABELS } from './labels.ts';
import { matchesSelector, selectorKeys, type Labels } from './label-selector.ts';

/**
 * The new pod as it waits to join a ReplicaSet: without the labels its selector looks
 * at, kept in an annotation instead. A ReplicaSet adopts any orphan its selector
 * matches, and with one pod too many it would delete one at once, perhaps the new
 * pod before it is Ready; outside the selector, the new pod is left alone.
 * https://kubernetes.io/docs/concepts/workloads/controllers/replicaset/#non-template-pod-acquisitions
 */
export function outsideSelector(manifest: V1Pod, selector: V1LabelSelector): V1Pod {
  const labels = manifest.metadata?.labels ?? {};
  const keys = new Set(selectorKeys(selector));
  const hidden = pick(labels, (key) => keys.has(key));
  const kept = pick(labels, (key) => !keys.has(key));

  if (matchesSelector(selector, kept) || !matchesSelector(selector, labels)) {
    throw new ReplicaSetHandoffError(
      `the ReplicaSet's selector cannot be made to skip the new pod ${manifest.metadata?.name ?? ''} ` +
        'by removing labels and to match it again by restoring them',
    );
  }
  const metadata = Object.assign({}, manifest.metadata, {
    labels: kept,
    annotations: {
      ...manifest.metadata?.annotations,
      [ANNOTATION_HANDOFF_LABELS]: JSON.stringify(hidden),
    },
  });
  return Object.assign({}, manifest, { metadata });
}

/**
 * The merge patch that gives the new pod its selector labels back, and drops the
 * annotation that kept them; null when the pod has no such annotation (joined already).
 */
export function joinPatch(
  pod: V1Pod,
): { metadata: { labels: Labels; annotations: object } } | null {
  const raw = pod.metadata?.annotations?.[ANNOTATION_HANDOFF_LABELS];
  if (raw === undefined) return null;

  const labels = parseLabels(raw);
  return { metadata: { labels, annotations: { [ANNOTATION_HANDOFF_LABELS]: null } } };
}

function parseLabels(raw: string): Labels {
  const parsed: unknown = JSON.parse(raw);
  if (typeof parsed !== 'object' || parsed === null || Array.isArray(parsed)) {
    throw new Error(`annotation ${ANNOTATION_HANDOFF_LABELS} is not a JSON object`);
  }
  const labels: Labels = {};
  for (const [key, value] of Object.entries(parsed)) {
    if (typeof value !== 'string') {
      throw new Error(`annotation ${ANNOTATION_HANDOFF_LABELS} holds a label that is not a string`);
    }
    labels[key] = value;
  }
  return labels;
}

function pick(labels: Labels, keep: (key: string) => boolean): Labels {
  return Object.fromEntries(Object.entries(labels).filter(([key]) => keep(key)));
}
