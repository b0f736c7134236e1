import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import { ReplicaSetHandoffError } from './errors.ts';
import { joinPatch, outsideSelector } from './handoff-labels.ts';
import { matchesSelector } from './label-selector.ts';

const selector = { matchLabels: { app: 'web', 'pod-template-hash': '5d9f' } };

function newPod(): V1Pod {
  return {
    metadata: {
      name: 'web-5d9f-abcde-m123abc',
      labels: { app: 'web', 'pod-template-hash': '5d9f', 'aso.dev/migration-id': 'id-1' },
      annotations: { note: 'kept' },
    },
    spec: { containers: [{ name: 'app', image: 'nginx' }] },
  };
}

describe('the new pod of a ReplicaSet hand-off', () => {
  it('starts without the selector labels, kept in an annotation, and gets them back to join', () => {
    const outside = outsideSelector(newPod(), selector);

    expect(outside.metadata?.labels).toEqual({ 'aso.dev/migration-id': 'id-1' });
    expect(matchesSelector(selector, outside.metadata?.labels ?? {})).toBe(false);
    expect(outside.metadata?.annotations).toEqual({
      note: 'kept',
      'aso.dev/handoff-labels': '{"app":"web","pod-template-hash":"5d9f"}',
    });
    expect(outside.spec).toEqual(newPod().spec);

    const patch = joinPatch(outside);
    expect(patch).toEqual({
      metadata: {
        labels: { app: 'web', 'pod-template-hash': '5d9f' },
        annotations: { 'aso.dev/handoff-labels': null },
      },
    });
    const rejoined = { ...outside.metadata?.labels, ...patch?.metadata.labels };
    expect(matchesSelector(selector, rejoined)).toBe(true);
  });

  it('has nothing to patch once it has joined', () => {
    expect(joinPatch(newPod())).toBeNull();
  });

  it('refuses a selector that still matches without the labels', () => {
    const negative = { matchExpressions: [{ key: 'canary', operator: 'DoesNotExist' }] };

    expect(() => outsideSelector(newPod(), negative)).toThrow(ReplicaSetHandoffError);
  });

  it('refuses a label annotation that is not an object of strings', () => {
    const pod = newPod();
    pod.metadata = Object.assign({}, pod.metadata, {
      annotations: { 'aso.dev/handoff-labels': '{"app":1}' },
    });

    expect(() => joinPatch(pod)).toThrow(/not a string/);
  });
});
