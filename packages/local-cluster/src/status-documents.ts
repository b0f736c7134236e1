/**
 * Pod status as the simulator writes it: plain JSON in wire form (RFC 3339 strings),
 * shaped like core/v1 PodStatus. Kept separate from the client's model classes, whose
 * Date-typed fields do not match what a patch body carries.
 */
export interface WaitingState {
  reason: string;
  message?: string;
}

export interface TerminatedState {
  exitCode: number;
  reason: string;
  message?: string;
  startedAt?: string;
  finishedAt: string;
  containerID?: string;
}

export interface ContainerStateDocument {
  waiting?: WaitingState;
  running?: { startedAt: string };
  terminated?: TerminatedState;
}

export interface ContainerStatusDocument {
  name: string;
  image: string;
  imageID: string;
  containerID?: string;
  ready: boolean;
  started: boolean;
  restartCount: number;
  state: ContainerStateDocument;
  lastState: ContainerStateDocument;
}

export type ConditionStatus = 'True' | 'False';

export interface PodConditionDocument {
  type: string;
  status: ConditionStatus;
  reason?: string;
  message?: string;
  lastTransitionTime: string;
  lastProbeTime: null;
  observedGeneration?: number;
}

export type PodPhase = 'Pending' | 'Running' | 'Succeeded' | 'Failed';

export interface PodStatusDocument {
  observedGeneration?: number;
  phase: PodPhase;
  conditions: PodConditionDocument[];
  hostIP: string;
  hostIPs: { ip: string }[];
  podIP?: string;
  podIPs?: { ip: string }[];
  startTime: string;
  initContainerStatuses?: ContainerStatusDocument[];
  containerStatuses: ContainerStatusDocument[];
}

export function isTerminalPhase(phase: string | undefined): boolean {
  return phase === 'Succeeded' || phase === 'Failed';
}
