import { readFile } from 'node:fs/promises';

import {
  ApiException,
  AuthorizationV1Api,
  loadAllYaml,
  RbacAuthorizationV1Api,
  type KubeConfig,
  type V1RoleBinding,
} from '@kubernetes/client-node';

import { reviewAttributes } from './rbac-calls.ts';

const EXAMPLE_ROLE_BINDINGS = new URL(
  '../../k8s/examples/namespaced-rbac/rolebindings.yaml',
  import.meta.url,
);

/**
 * Does what k8s/examples/namespaced-rbac does, on a running cluster: creates its
 * RoleBindings in `namespace` and deletes the ClusterRoleBindings of the same names,
 * so each service keeps its namespaced rights in that namespace only.
 */
export async function narrowBindingsTo(admin: KubeConfig, namespace: string): Promise<void> {
  const rbac = admin.makeApiClient(RbacAuthorizationV1Api);
  const documents = loadAllYaml(await readFile(EXAMPLE_ROLE_BINDINGS, 'utf8')) as V1RoleBinding[];

  for (const binding of documents) {
    const name = binding.metadata?.name ?? '';
    await rbac.createNamespacedRoleBinding({
      namespace,
      body: {
        metadata: { name, namespace },
        roleRef: binding.roleRef,
        ...(binding.subjects ? { subjects: binding.subjects } : {}),
      },
    });
    await rbac.deleteClusterRoleBinding({ name }).catch((error: unknown) => {
      if (!(error instanceof ApiException && error.code === 404)) throw error;
    });
  }
}

/** Whether the apiserver would let this kubeconfig's user make the call. */
export async function mayDo(
  kubeConfig: KubeConfig,
  attributes: string,
  namespace: string | undefined,
): Promise<boolean> {
  const review = await kubeConfig.makeApiClient(AuthorizationV1Api).createSelfSubjectAccessReview({
    body: { spec: { resourceAttributes: reviewAttributes(attributes, namespace) } },
  });
  return review.status?.allowed ?? false;
}
