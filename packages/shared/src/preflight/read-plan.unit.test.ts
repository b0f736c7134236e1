import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { PodNotScheduledError, ValidationError } from '../errors.ts';
import type { KubeClients } from '../kube.ts';
import { planMigration } from './read-plan.ts';
import { node, pod } from './test-fixtures.ts';

/** Just the reads the pre-flight makes, answered from fixtures. */
function clusterWith(found: V1Pod): KubeClients {
  const core = {
    readNamespacedPod: () => Promise.resolve(found),
    readNode: ({ name }: { name: string }) => Promise.resolve(node(name)),
    listPodForAllNamespaces: () => Promise.resolve({ items: [] }),
  };
  return { core } as unknown as KubeClients;
}

const request = { pod_name: 'tf-train-0', pod_namespace: 'default', target_node: 'worker-2' };

describe('the pre-flight without a source node', () => {
  it("takes the node the pod runs on as the plan's source", async () => {
    const { plan } = await planMigration(clusterWith(pod('tf-train-0')), request);

    expect([plan.source_node, plan.target_node]).toEqual(['worker-1', 'worker-2']);
  });

  it('refuses a pod that no node runs yet', async () => {
    const unscheduled = pod('tf-train-0');
    delete unscheduled.spec?.nodeName;

    await expect(planMigration(clusterWith(unscheduled), request)).rejects.toThrow(
      PodNotScheduledError,
    );
  });

  it('refuses a pod already on the target, as a request naming it as source would be', async () => {
    const attempt = planMigration(
      clusterWith(pod('tf-train-0', { nodeName: 'worker-2' })),
      request,
    );

    await expect(attempt).rejects.toThrow(ValidationError);
    await expect(attempt).rejects.toThrow(
      'target_node must differ from source_node: pod default/tf-train-0 already runs on worker-2',
    );
  });

  it('still checks a named source node against where the pod runs', async () => {
    const attempt = planMigration(clusterWith(pod('tf-train-0')), {
      ...request,
      source_node: 'worker-3',
    });

    await expect(attempt).rejects.toThrow(/runs on worker-1, not on source_node worker-3/);
  });
});
