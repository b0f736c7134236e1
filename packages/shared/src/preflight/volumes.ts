import type {
  V1Node,
  V1PersistentVolume,
  V1PersistentVolumeClaim,
  V1Pod,
  V1Volume,
} from '@kubernetes/client-node';

import { VolumeCannotFollowError } from '../errors.ts';
import { describeNodeSelector, matchesNodeSelector } from './node-selector.ts';
import { podRef } from './pod-ref.ts';

/**
 * make-before-break: the new pod starts and becomes Ready while the original still
 * runs. break-before-make: the original must stop and release its claims first,
 * because a claim limited to one node cannot be mounted on two at once.
 */
export type VolumeStrategy = 'make-before-break' | 'break-before-make';

export interface PlannedVolume {
  name: string;
  /** The volume source as named in the pod spec: persistentVolumeClaim, emptyDir, ... */
  kind: string;
  claim: string | null;
  persistent_volume: string | null;
  /** The claim's access modes (those of its bound volume once bound); empty for other kinds. */
  access_modes: string[];
  /** The claim can be mounted on one node (or by one pod) at a time. */
  single_node: boolean;
  reason: string;
}

export interface VolumeCheck {
  strategy: VolumeStrategy;
  strategy_reason: string;
  volumes: PlannedVolume[];
  warnings: string[];
}

export interface VolumeInputs {
  pod: V1Pod;
  /** The claims the pod's persistentVolumeClaim volumes name, read from its namespace. */
  claims: V1PersistentVolumeClaim[];
  /** The volumes those claims are bound to. */
  persistentVolumes: V1PersistentVolume[];
  targetNode: V1Node;
}

/** Rebuilt on the target from API objects or the pod itself; nothing of theirs is lost. */
const REBUILT_KINDS = new Set(['configMap', 'secret', 'projected', 'downwardAPI']);

/** Network file systems, reachable from any node that reaches the server. */
const NETWORK_FILE_SYSTEMS = new Set(['nfs', 'cephfs', 'glusterfs', 'azureFile', 'quobyte']);

/**
 * Decides whether each of the pod's volumes can follow it to the target node, and
 * whether the new pod can start before the original stops.
 * See https://kubernetes.io/docs/concepts/storage/volumes/ and
 * https://kubernetes.io/docs/concepts/storage/persistent-volumes/#access-modes
 *
 * Throws VolumeCannotFollowError for a volume whose data stays on the source
 * node (hostPath, a local volume) or whose volume the target cannot reach.
 */
export function checkVolumes(inputs: VolumeInputs): VolumeCheck {
  const judged = (inputs.pod.spec?.volumes ?? []).map((volume) => judgeVolume(volume, inputs));
  const planned = judged.map((entry) => entry.volume);
  const strategy = chooseStrategy(planned);

  const warnings = judged.flatMap((entry) => entry.warnings);
  if (strategy.strategy === 'break-before-make') {
    warnings.push(
      'break-before-make: the workload is down from the moment the original stops until the ' +
        'new pod is Ready on the target',
    );
  }
  return { ...strategy, volumes: planned, warnings };
}

interface JudgedVolume {
  volume: PlannedVolume;
  warnings: string[];
}

function judgeVolume(volume: V1Volume, inputs: VolumeInputs): JudgedVolume {
  if (volume.persistentVolumeClaim) {
    return judgeClaim(volume.name, volume.persistentVolumeClaim.claimName, inputs);
  }
  if (volume.hostPath) {
    throw cannotFollow(
      inputs,
      volume.name,
      `it is the hostPath ${volume.hostPath.path} on the source node's own disk`,
    );
  }

  const kind = volumeKind(volume);
  const { reason, warning } = judgeInline(volume.name, kind);
  return {
    volume: {
      name: volume.name,
      kind,
      claim: null,
      persistent_volume: null,
      access_modes: [],
      single_node: false,
      reason,
    },
    warnings: warning ? [warning] : [],
  };
}

/** A volume declared in the pod itself: it follows, though some lose their content. */
function judgeInline(name: string, kind: string): { reason: string; warning?: string } {
  if (kind === 'emptyDir') {
    return {
      reason: 'emptyDir: created empty on the target',
      warning: `emptyDir volume ${name} starts empty on the target: its content is lost`,
    };
  }
  if (kind === 'ephemeral') {
    return {
      reason: 'generic ephemeral volume: the new pod gets a fresh claim of its own',
      warning: `ephemeral volume ${name} is provisioned anew for the new pod: its content is lost`,
    };
  }
  if (REBUILT_KINDS.has(kind)) return { reason: `${kind}: rebuilt on the target from the API` };
  if (kind === 'image') return { reason: 'image volume: pulled again on the target' };
  if (NETWORK_FILE_SYSTEMS.has(kind)) {
    return { reason: `${kind}: a network file system, mounted again on the target` };
  }
  return {
    reason: `${kind}: mounted again on the target as declared`,
    warning: `${kind} volume ${name} was not checked before the move: make sure the target can reach it`,
  };
}

function judgeClaim(name: string, claimName: string, inputs: VolumeInputs): JudgedVolume {
  const claim = findClaim(inputs, claimName);
  if (!claim) {
    throw cannotFollow(inputs, name, `its claim ${claimName} does not exist`);
  }
  if (claim.metadata?.deletionTimestamp) {
    throw cannotFollow(inputs, name, `its claim ${claimName} is being deleted`);
  }

  const pv = boundVolume(inputs, name, claim);
  if (pv) checkReachable(inputs, name, pv);

  const accessModes = claim.status?.accessModes ?? claim.spec?.accessModes ?? [];
  const singleNode = isSingleNode(accessModes);
  const volume: PlannedVolume = {
    name,
    kind: 'persistentVolumeClaim',
    claim: claimName,
    persistent_volume: pv?.metadata?.name ?? null,
    access_modes: accessModes,
    single_node: singleNode,
    reason: claimReason(claimName, accessModes, singleNode, pv),
  };
  const unbound = `claim ${claimName} is not bound yet; the scheduler binds it for the new pod`;
  return { volume, warnings: pv ? [] : [unbound] };
}

function findClaim(inputs: VolumeInputs, claimName: string): V1PersistentVolumeClaim | undefined {
  const namespace = inputs.pod.metadata?.namespace ?? 'default';
  return inputs.claims.find(
    (claim) =>
      claim.metadata?.name === claimName && (claim.metadata.namespace ?? namespace) === namespace,
  );
}

/** The volume the claim is bound to; undefined while the claim is still unbound. */
function boundVolume(
  inputs: VolumeInputs,
  name: string,
  claim: V1PersistentVolumeClaim,
): V1PersistentVolume | undefined {
  const volumeName = claim.spec?.volumeName;
  if (!volumeName) return undefined;

  const pv = inputs.persistentVolumes.find((candidate) => candidate.metadata?.name === volumeName);
  if (!pv) {
    throw cannotFollow(
      inputs,
      name,
      `the volume ${volumeName} its claim is bound to does not exist`,
    );
  }
  return pv;
}

/**
 * The scheduler places a pod only on a node that matches the node affinity of
 * each of its bound volumes; local and zonal volumes carry one.
 * See https://kubernetes.io/docs/concepts/storage/persistent-volumes/#node-affinity
 */
function checkReachable(inputs: VolumeInputs, name: string, pv: V1PersistentVolume): void {
  const pvName = pv.metadata?.name ?? '';
  const target = inputs.targetNode.metadata?.name ?? '';

  if (pv.spec?.hostPath) {
    throw cannotFollow(
      inputs,
      name,
      `its volume ${pvName} is the hostPath ${pv.spec.hostPath.path} on one node's own disk`,
    );
  }
  if (pv.spec?.local) {
    throw cannotFollow(
      inputs,
      name,
      `its volume ${pvName} is a local volume (${pv.spec.local.path}), a disk of one node ` +
        'whose data does not move with the pod',
    );
  }
  const required = pv.spec?.nodeAffinity?.required;
  if (required && !matchesNodeSelector(required, inputs.targetNode)) {
    throw cannotFollow(
      inputs,
      name,
      `its volume ${pvName} is local or zonal: its node affinity (${describeNodeSelector(required)}) ` +
        `does not match ${target}`,
    );
  }
}

/**
 * A claim is limited to one node unless its volume allows several: ReadWriteMany
 * and ReadOnlyMany let the attach/detach controller attach it to several nodes;
 * ReadWriteOnce, ReadWriteOncePod (which Kubernetes allows only on its own) or no
 * mode at all is taken to be single-node, the safe reading.
 */
function isSingleNode(accessModes: string[]): boolean {
  return !accessModes.some((mode) => mode === 'ReadWriteMany' || mode === 'ReadOnlyMany');
}

function claimReason(
  claimName: string,
  accessModes: string[],
  singleNode: boolean,
  pv: V1PersistentVolume | undefined,
): string {
  const modes = accessModes.length > 0 ? accessModes.join(', ') : 'no access mode';
  const binding = pv ? `bound to ${pv.metadata?.name ?? ''}` : 'not bound yet';
  const effect = singleNode
    ? 'only one node can mount it, so the original must release it before the new pod mounts it'
    : 'it can be mounted on both nodes at once';
  return `claim ${claimName} (${modes}, ${binding}): ${effect}`;
}

function chooseStrategy(
  planned: PlannedVolume[],
): Pick<VolumeCheck, 'strategy' | 'strategy_reason'> {
  const singleNode = planned.filter((volume) => volume.single_node);
  if (singleNode.length > 0) {
    const claims = singleNode.map((volume) => volume.claim ?? volume.name).join(', ');
    return {
      strategy: 'break-before-make',
      strategy_reason:
        `claims limited to one node at a time (${claims}): the original must stop and ` +
        'release them before the new pod can mount them on the target',
    };
  }
  const claims = planned.filter((volume) => volume.claim !== null);
  return {
    strategy: 'make-before-break',
    strategy_reason:
      claims.length > 0
        ? 'every claim can be mounted on several nodes: the new pod starts before the original stops'
        : 'the pod uses no claims: the new pod starts before the original stops',
  };
}

/** The volume source the pod spec sets, by its field name. */
function volumeKind(volume: V1Volume): string {
  const entries = Object.entries(volume) as [keyof V1Volume, unknown][];
  const source = entries.find(([key, value]) => key !== 'name' && value !== undefined);
  return source?.[0] ?? 'unknown';
}

function cannotFollow(inputs: VolumeInputs, volume: string, why: string): VolumeCannotFollowError {
  const target = inputs.targetNode.metadata?.name ?? '';
  return new VolumeCannotFollowError(podRef(inputs.pod), volume, target, why);
}
