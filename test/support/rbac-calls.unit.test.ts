import { describe, expect, it } from 'vitest';

import { grantedAttributes, requestAttributes, reviewAttributes } from './rbac-calls.ts';

describe('requestAttributes', () => {
  it.each([
    ['GET', '/api/v1/namespaces/ns/pods/web', 'get /pods'],
    ['GET', '/api/v1/namespaces/ns/pods?labelSelector=app%3Dweb', 'list /pods'],
    ['GET', '/api/v1/namespaces/ns/pods?fieldSelector=x&watch=true', 'watch /pods'],
    ['GET', '/api/v1/pods?fieldSelector=spec.nodeName%3Dworker-2', 'list /pods'],
    ['POST', '/api/v1/namespaces/ns/pods/web/eviction', 'create /pods/eviction'],
    ['PATCH', '/api/v1/namespaces/ns/pods/web', 'patch /pods'],
    ['DELETE', '/api/v1/namespaces/ns/persistentvolumeclaims/c', 'delete /persistentvolumeclaims'],
    ['GET', '/api/v1/nodes/worker-1', 'get /nodes'],
    ['GET', '/api/v1/namespaces/ns', 'get /namespaces'],
    ['GET', '/apis/apps/v1/namespaces/ns/replicasets/web-1', 'get apps/replicasets'],
    ['GET', '/apis/metrics.k8s.io/v1beta1/namespaces/ns/pods/web', 'get metrics.k8s.io/pods'],
  ])('%s %s is %s', (method, path, expected) => {
    expect(requestAttributes({ method, path })).toBe(expected);
  });

  it('ignores paths that are not resources', () => {
    expect(requestAttributes({ method: 'GET', path: '/version' })).toBeNull();
    expect(requestAttributes({ method: 'GET', path: '/api/v1' })).toBeNull();
  });
});

describe('grantedAttributes', () => {
  it('lists every verb, group and resource of the chosen ClusterRoles', async () => {
    const granted = await grantedAttributes(
      new URL('../../k8s/base/rbac.yaml', import.meta.url),
      (name) => name === 'aso-metrics-worker',
    );

    expect([...granted].sort()).toEqual([
      'get /persistentvolumeclaims',
      'get /pods',
      'get metrics.k8s.io/pods',
    ]);
  });
});

describe('reviewAttributes', () => {
  it('splits the group, resource and subresource, and names the namespace if any', () => {
    expect(reviewAttributes('create /pods/eviction', 'ns')).toEqual({
      verb: 'create',
      group: '',
      resource: 'pods',
      subresource: 'eviction',
      namespace: 'ns',
    });
    expect(reviewAttributes('get metrics.k8s.io/pods', undefined)).toEqual({
      verb: 'get',
      group: 'metrics.k8s.io',
      resource: 'pods',
    });
  });
});
