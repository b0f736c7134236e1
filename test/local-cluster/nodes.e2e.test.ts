import { CoordinationV1Api, CoreV1Api } from '@kubernetes/client-node';
import type { V1Lease } from '@kubernetes/client-node';
import { beforeAll, describe, expect, it } from 'vitest';
import { eventually, loadTestKubeConfig } from '../setup/kube.ts';

const NODES = ['worker-1', 'worker-2', 'worker-3'];

/** The client types renewTime as a Date subclass but leaves the wire string in place. */
function renewedAt(lease: V1Lease): number {
  const value: unknown = lease.spec?.renewTime;
  return value instanceof Date ? value.getTime() : Date.parse(String(value));
}

describe('simulated nodes', () => {
  let core: CoreV1Api;
  let coordination: CoordinationV1Api;

  beforeAll(() => {
    const kubeConfig = loadTestKubeConfig();
    core = kubeConfig.makeApiClient(CoreV1Api);
    coordination = kubeConfig.makeApiClient(CoordinationV1Api);
  });

  it('registers three Ready, untainted worker nodes', async () => {
    const nodes = (await core.listNode()).items;

    expect(nodes.map((node) => node.metadata?.name).sort()).toEqual(NODES);
    for (const node of nodes) {
      const conditions = new Map(
        node.status?.conditions?.map((entry) => [entry.type, entry.status]),
      );
      expect(conditions).toEqual(
        new Map([
          ['MemoryPressure', 'False'],
          ['DiskPressure', 'False'],
          ['PIDPressure', 'False'],
          ['Ready', 'True'],
        ]),
      );
      expect(node.spec?.taints ?? []).toEqual([]);
      expect(node.spec?.unschedulable).not.toBe(true);
    }
  });

  it('labels and sizes nodes like real workers', async () => {
    const node = await core.readNode({ name: 'worker-2' });

    expect(node.metadata?.labels).toMatchObject({
      'kubernetes.io/hostname': 'worker-2',
      'kubernetes.io/os': 'linux',
      'kubernetes.io/arch': 'amd64',
      layer: 'compute',
      'node-role.kubernetes.io/worker': '',
    });
    expect(node.status?.allocatable).toMatchObject({ cpu: '8', memory: '32Gi', pods: '110' });
    expect(node.status?.addresses).toEqual([
      { type: 'InternalIP', address: '10.240.0.11' },
      { type: 'Hostname', address: 'worker-2' },
    ]);
    expect(node.status?.nodeInfo).toMatchObject({
      kubeletVersion: 'v1.37.2',
      operatingSystem: 'linux',
    });
    expect(node.spec?.podCIDR).toBe('10.244.2.0/24');
  });

  it('keeps renewing each node lease', async () => {
    const first = await coordination.readNamespacedLease({
      name: 'worker-1',
      namespace: 'kube-node-lease',
    });
    const firstRenewal = renewedAt(first);

    expect(first.spec?.holderIdentity).toBe('worker-1');
    await eventually(
      async () => {
        const lease = await coordination.readNamespacedLease({
          name: 'worker-1',
          namespace: 'kube-node-lease',
        });
        return renewedAt(lease) > firstRenewal;
      },
      { what: 'the worker-1 lease to be renewed', timeoutMs: 30_000, intervalMs: 1000 },
    );
  });
});
