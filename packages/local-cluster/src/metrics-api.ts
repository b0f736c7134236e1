import type {
  ApiextensionsV1Api,
  V1CustomResourceDefinition,
  V1JSONSchemaProps,
} from '@kubernetes/client-node';
import { ignoreAlreadyExists } from './api-errors.ts';

/**
 * metrics.k8s.io served from CustomResourceDefinitions in the same apiserver, standing in
 * for metrics-server. Groups under *.k8s.io need the api-approved annotation; a value
 * starting with "unapproved" is accepted as an explicit opt-out (see APIApprovalBypassed in
 * https://github.com/kubernetes/kubernetes/blob/master/staging/src/k8s.io/apiextensions-apiserver/pkg/apihelpers/helpers.go).
 */
export const METRICS_GROUP = 'metrics.k8s.io';
export const METRICS_VERSION = 'v1beta1';
export const POD_METRICS_PLURAL = 'pods';
export const NODE_METRICS_PLURAL = 'nodes';

const APPROVAL = { 'api-approved.kubernetes.io': 'unapproved, local simulation of metrics-server' };

const usageSchema: V1JSONSchemaProps = { type: 'object', additionalProperties: { type: 'string' } };

const commonProperties: Record<string, V1JSONSchemaProps> = {
  apiVersion: { type: 'string' },
  kind: { type: 'string' },
  metadata: { type: 'object' },
  timestamp: { type: 'string', format: 'date-time' },
  window: { type: 'string' },
};

const podSchema: V1JSONSchemaProps = {
  type: 'object',
  properties: {
    ...commonProperties,
    containers: {
      type: 'array',
      items: {
        type: 'object',
        required: ['name', 'usage'],
        properties: { name: { type: 'string' }, usage: usageSchema },
      },
    },
  },
};

const nodeSchema: V1JSONSchemaProps = {
  type: 'object',
  properties: { ...commonProperties, usage: usageSchema },
};

function definition(
  plural: string,
  kind: string,
  scope: 'Namespaced' | 'Cluster',
  schema: V1JSONSchemaProps,
): V1CustomResourceDefinition {
  return {
    metadata: { name: `${plural}.${METRICS_GROUP}`, annotations: APPROVAL },
    spec: {
      group: METRICS_GROUP,
      scope,
      names: { plural, singular: kind.toLowerCase(), kind, listKind: `${kind}List` },
      versions: [
        { name: METRICS_VERSION, served: true, storage: true, schema: { openAPIV3Schema: schema } },
      ],
    },
  };
}

export const METRICS_DEFINITIONS = [
  definition(POD_METRICS_PLURAL, 'PodMetrics', 'Namespaced', podSchema),
  definition(NODE_METRICS_PLURAL, 'NodeMetrics', 'Cluster', nodeSchema),
];

async function isEstablished(apiextensions: ApiextensionsV1Api, name: string): Promise<boolean> {
  const crd = await apiextensions.readCustomResourceDefinition({ name });
  return (crd.status?.conditions ?? []).some(
    (entry) => entry.type === 'Established' && entry.status === 'True',
  );
}

/** Creates the CRDs and returns once the apiserver serves them. */
export async function installMetricsApi(
  apiextensions: ApiextensionsV1Api,
  waitUntil: (what: string, check: () => Promise<boolean>) => Promise<void>,
): Promise<void> {
  for (const body of METRICS_DEFINITIONS) {
    await ignoreAlreadyExists(() => apiextensions.createCustomResourceDefinition({ body }));
  }

  for (const body of METRICS_DEFINITIONS) {
    const name = body.metadata?.name ?? '';
    await waitUntil(`CRD ${name} established`, () => isEstablished(apiextensions, name));
  }
}
