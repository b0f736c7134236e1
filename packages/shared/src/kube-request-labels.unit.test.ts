import { describe, expect, it } from 'vitest';

import { kubeRequestLabels } from './kube-request-labels.ts';

const server = 'https://127.0.0.1:6443';
const labels = (method: string, path: string) => kubeRequestLabels(method, new URL(path, server));

describe('kubeRequestLabels', () => {
  it.each([
    ['GET', '/api/v1/namespaces/ml/pods/tf-train-0', 'get', 'pods'],
    ['GET', '/api/v1/namespaces/ml/pods?labelSelector=a%3Db', 'list', 'pods'],
    ['GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dworker-1', 'list', 'pods'],
    ['GET', '/api/v1/namespaces/ml/pods?watch=true&fieldSelector=x', 'watch', 'pods'],
    ['GET', '/api/v1/watch/namespaces/ml/pods/tf-train-0', 'watch', 'pods'],
    ['POST', '/api/v1/namespaces/ml/pods', 'create', 'pods'],
    ['POST', '/api/v1/namespaces/ml/pods/tf-train-0/eviction', 'create', 'pods/eviction'],
    ['PATCH', '/api/v1/namespaces/ml/pods/tf-train-0', 'patch', 'pods'],
    ['PUT', '/api/v1/namespaces/ml/pods/tf-train-0/status', 'update', 'pods/status'],
    [
      'DELETE',
      '/api/v1/namespaces/ml/persistentvolumeclaims/tf-checkpoint',
      'delete',
      'persistentvolumeclaims',
    ],
    ['DELETE', '/api/v1/namespaces/ml/pods', 'deletecollection', 'pods'],
    ['GET', '/api/v1/nodes/worker-2', 'get', 'nodes'],
    ['GET', '/api/v1/namespaces/ml', 'get', 'namespaces'],
    ['GET', '/apis/apps/v1/namespaces/ml/replicasets/web-7d9', 'get', 'replicasets.apps'],
    [
      'GET',
      '/apis/metrics.k8s.io/v1beta1/namespaces/ml/pods/tf-train-0',
      'get',
      'pods.metrics.k8s.io',
    ],
    ['POST', '/apis/events.k8s.io/v1/namespaces/ml/events', 'create', 'events.events.k8s.io'],
    ['GET', '/version', 'get', 'version'],
    ['GET', '/some/thing/else', 'get', 'other'],
    ['OPTIONS', '/api/v1/nodes', 'other', 'nodes'],
  ])('%s %s is %s %s', (method, path, verb, resource) => {
    expect(labels(method, path)).toEqual({ verb, resource });
  });

  it('never takes a label from a name that is not an API name', () => {
    expect(labels('GET', '/apis/Evil%20Group/v1/things/x').resource).toBe('other');
    expect(labels('GET', `/api/v1/${'a'.repeat(80)}`).resource).toBe('other');
  });
});
