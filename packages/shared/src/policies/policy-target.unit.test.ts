import type { V1Node, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import type { KubeClients } from '../kube.ts';
import { container, node, pod } from '../preflight/test-fixtures.ts';
import { choosePolicyTarget, withPolicyPlacement } from './policy-target.ts';

/** The two reads the choice makes, answered from the nodes and pods given. */
function cluster(nodes: V1Node[], pods: V1Pod[]): KubeClients {
  const core = {
    readNode: ({ name }: { name: string }) => {
      const found = nodes.find((n) => n.metadata?.name === name);
      return found ? Promise.resolve(found) : Promise.reject(new Error('unexpected node'));
    },
    listPodForAllNamespaces: ({ fieldSelector }: { fieldSelector: string }) => {
      const nodeName = fieldSelector.replace('spec.nodeName=', '');
      return Promise.resolve({ items: pods.filter((p) => p.spec?.nodeName === nodeName) });
    },
  };
  return { core } as unknown as KubeClients;
}

const hot = (name: string) =>
  pod(name, { nodeName: 'worker-1', containers: [container('main', { cpu: '1500m' })] });

describe('the target of a policy', () => {
  it('counts the pods the evaluation already sent to a target, so one that is full is passed', async () => {
    // Room for one 1500m pod on worker-2, plenty on worker-3.
    const kube = cluster(
      [
        node('worker-2', { allocatable: { cpu: '2', memory: '8Gi', pods: '110' } }),
        node('worker-3'),
      ],
      [],
    );
    const targets = ['worker-2', 'worker-3'];

    const first = await choosePolicyTarget(kube, hot('a'), targets);
    expect(first).toEqual({ fits: true, node: 'worker-2' });

    const placed = withPolicyPlacement(new Map(), 'worker-2', hot('a'));
    const second = await choosePolicyTarget(kube, hot('b'), targets, placed);
    expect(second).toEqual({ fits: true, node: 'worker-3' });
    expect(await choosePolicyTarget(kube, hot('b'), ['worker-2'], placed)).toMatchObject({
      fits: false,
      refusals: [{ node: 'worker-2', code: 'insufficient-capacity' }],
    });
  });
});
