/**
 * The simulated machines. Addresses are data only: nothing ever dials them (the
 * apiserver is told to use an address type these nodes never publish).
 */
export interface SimulatedNode {
  name: string;
  internalIP: string;
  podCIDR: string;
  /** Third octet of the pod CIDR, used by the pod IP allocator. */
  subnet: number;
}

export const DEFAULT_NODE_NAMES = ['worker-1', 'worker-2', 'worker-3'];

export function simulatedNodes(names: readonly string[]): SimulatedNode[] {
  return names.map((name, index) => ({
    name,
    internalIP: `10.240.0.${index + 10}`,
    podCIDR: `10.244.${index + 1}.0/24`,
    subnet: index + 1,
  }));
}

export function nodeLabels(name: string): Record<string, string> {
  return {
    'kubernetes.io/hostname': name,
    'kubernetes.io/os': 'linux',
    'kubernetes.io/arch': 'amd64',
    'beta.kubernetes.io/os': 'linux',
    'beta.kubernetes.io/arch': 'amd64',
    layer: 'compute',
    'node-role.kubernetes.io/worker': '',
  };
}

export const NODE_RESOURCES: Readonly<Record<string, string>> = {
  cpu: '8',
  memory: '32Gi',
  pods: '110',
  'ephemeral-storage': '100Gi',
  'hugepages-1Gi': '0',
  'hugepages-2Mi': '0',
};
