import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';

import { UnsupportedControllerError } from '../errors.ts';
import { podRef } from './pod-ref.ts';

/**
 * How the pod's controller is handled. A bare pod has none. A ReplicaSet's pod is
 * handed off: the set must count the new pod instead of the original rather than
 * start a replacement of its own.
 */
export type ControllerHandling =
  { kind: 'none' } | { kind: 'ReplicaSet'; name: string; strategy: 'replicaset-handoff' };

/**
 * Why each refused controller cannot be worked around, keyed by "group/kind".
 * See https://kubernetes.io/docs/concepts/workloads/controllers/
 */
const REFUSED: Record<string, string> = {
  'apps/StatefulSet':
    'a StatefulSet gives each pod a stable identity and claims of its own that the set ' +
    'owns, and it recreates a missing pod under the same name itself',
  'apps/DaemonSet':
    'a DaemonSet runs one pod per node by design: it would recreate the pod on the source ' +
    'node, and the copy on the target would duplicate the one it already runs there',
  'batch/Job':
    'the Job controller tracks completions by its own pods and would start a replacement ' +
    'for the original, running the work twice',
};

/**
 * Reads the pod's managing controller from its owner references (the one with
 * controller: true) and decides whether the pod can be moved with it.
 * See https://kubernetes.io/docs/concepts/overview/working-with-objects/owners-dependents/
 */
export function checkController(pod: V1Pod): ControllerHandling {
  const owner = pod.metadata?.ownerReferences?.find((reference) => reference.controller);
  if (!owner) return { kind: 'none' };

  const key = `${apiGroup(owner)}/${owner.kind}`;
  if (key === 'apps/ReplicaSet') {
    return { kind: 'ReplicaSet', name: owner.name, strategy: 'replicaset-handoff' };
  }

  const why =
    REFUSED[key] ??
    `${owner.apiVersion} ${owner.kind} is a controller migration does not know, and it ` +
      'would replace the pod behind the migration';
  throw new UnsupportedControllerError(podRef(pod), owner.kind, owner.name, why);
}

/** The API group of the owner; the core group is "". */
function apiGroup(owner: V1OwnerReference): string {
  const slash = owner.apiVersion.indexOf('/');
  return slash === -1 ? '' : owner.apiVersion.slice(0, slash);
}
