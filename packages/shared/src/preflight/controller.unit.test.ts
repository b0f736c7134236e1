import type { V1OwnerReference, V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { UnsupportedControllerError } from '../errors.ts';
import { checkController } from './controller.ts';
import { pod } from './test-fixtures.ts';

function owned(...ownerReferences: V1OwnerReference[]): V1Pod {
  return pod('web-7d9f8-x2k4q', {}, { ownerReferences });
}

function owner(
  apiVersion: string,
  kind: string,
  name: string,
  controller = true,
): V1OwnerReference {
  return { apiVersion, kind, name, uid: `uid-${name}`, controller, blockOwnerDeletion: true };
}

describe('checkController', () => {
  it('has nothing to hand off for a bare pod', () => {
    expect(checkController(pod('tf-train-0'))).toEqual({ kind: 'none' });
  });

  it('ignores owners that are not the controller', () => {
    const pod = owned(owner('v1', 'ConfigMap', 'bundle', false));
    expect(checkController(pod)).toEqual({ kind: 'none' });
  });

  it('hands a ReplicaSet pod off to its set', () => {
    const pod = owned(owner('apps/v1', 'ReplicaSet', 'web-7d9f8'));
    expect(checkController(pod)).toEqual({
      kind: 'ReplicaSet',
      name: 'web-7d9f8',
      strategy: 'replicaset-handoff',
    });
  });

  it.each([
    ['apps/v1', 'StatefulSet', 'db', /stable identity and claims of its own/],
    ['apps/v1', 'DaemonSet', 'node-exporter', /one pod per node by design: it would recreate/],
    ['batch/v1', 'Job', 'nightly-train', /tracks completions .* would start a replacement/],
  ])('refuses a %s %s, saying why', (apiVersion, kind, name, why) => {
    const attempt = () => checkController(owned(owner(apiVersion, kind, name)));

    expect(attempt).toThrow(UnsupportedControllerError);
    expect(attempt).toThrow(
      new RegExp(`managed by ${kind} ${name}, which migration does not support`),
    );
    expect(attempt).toThrow(why);
  });

  it('refuses a controller it does not know', () => {
    const attempt = () => checkController(owned(owner('argoproj.io/v1alpha1', 'Rollout', 'web')));
    expect(attempt).toThrow(
      /argoproj.io\/v1alpha1 Rollout is a controller migration does not know/,
    );
  });

  it('goes by the API group, not only the kind', () => {
    const custom = owned(owner('example.com/v1', 'ReplicaSet', 'lookalike'));
    expect(() => checkController(custom)).toThrow(/example.com\/v1 ReplicaSet is a controller/);
  });

  it('picks the controller among several owners', () => {
    const pod = owned(owner('v1', 'ConfigMap', 'bundle', false), owner('batch/v1', 'Job', 'train'));
    expect(() => checkController(pod)).toThrow(/managed by Job train/);
  });

  it('is a permanent 422 with a stable code', () => {
    try {
      checkController(owned(owner('apps/v1', 'DaemonSet', 'ds')));
      expect.unreachable();
    } catch (error) {
      expect(error).toMatchObject({ code: 'unsupported-controller', status: 422, permanent: true });
    }
  });
});
