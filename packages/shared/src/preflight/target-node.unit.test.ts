import type { V1Toleration } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import {
  TargetNodeCordonedError,
  TargetNodeNotReadyError,
  TargetTaintNotToleratedError,
} from '../errors.ts';
import { checkTargetNode, describeTaint, toleratesTaint } from './target-node.ts';
import { node, pod } from './test-fixtures.ts';

const gpuTaint = { key: 'nvidia.com/gpu', value: 'a100', effect: 'NoSchedule' };

function podTolerating(...tolerations: V1Toleration[]) {
  return pod('tf-train-0', { tolerations });
}

describe('checkTargetNode', () => {
  it('accepts a Ready node without taints and returns its hostname', () => {
    const check = checkTargetNode(node('worker-2'), pod('tf-train-0'));
    expect(check).toEqual({ node: 'worker-2', hostname: 'worker-2', warnings: [] });
  });

  it('returns a null hostname when the node has no hostname label', () => {
    const check = checkTargetNode(node('worker-2', { labels: {} }), pod('tf-train-0'));
    expect(check.hostname).toBeNull();
  });

  it('refuses a node whose Ready condition is False, with the kubelet reason', () => {
    const attempt = () => checkTargetNode(node('worker-2', { ready: 'False' }), pod('p'));

    expect(attempt).toThrow(TargetNodeNotReadyError);
    expect(attempt).toThrow(/worker-2 is not Ready \(Ready is False: KubeletNotReady/);
  });

  it('refuses a node whose kubelet stopped reporting (Unknown)', () => {
    const attempt = () => checkTargetNode(node('worker-2', { ready: 'Unknown' }), pod('p'));
    expect(attempt).toThrow(/Ready is Unknown/);
  });

  it('refuses a node that reports no Ready condition at all', () => {
    const attempt = () => checkTargetNode(node('worker-2', { ready: null }), pod('p'));
    expect(attempt).toThrow(/reports no Ready condition/);
  });

  it('refuses a cordoned node, even when the pod tolerates the unschedulable taint', () => {
    const cordoned = node('worker-2', {
      unschedulable: true,
      taints: [{ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' }],
    });
    const tolerant = podTolerating({ operator: 'Exists' });

    expect(() => checkTargetNode(cordoned, tolerant)).toThrow(TargetNodeCordonedError);
  });

  it('checks readiness before the cordon', () => {
    const both = node('worker-2', { ready: 'False', unschedulable: true });
    expect(() => checkTargetNode(both, pod('p'))).toThrow(TargetNodeNotReadyError);
  });

  it('refuses a NoSchedule taint the pod does not tolerate, naming it', () => {
    const tainted = node('worker-2', { taints: [gpuTaint] });
    const attempt = () => checkTargetNode(tainted, pod('tf-train-0'));

    expect(attempt).toThrow(TargetTaintNotToleratedError);
    expect(attempt).toThrow(/taint nvidia.com\/gpu=a100:NoSchedule, which pod default\/tf-train-0/);
  });

  it('refuses a NoExecute taint the pod does not tolerate', () => {
    const tainted = node('worker-2', { taints: [{ key: 'maintenance', effect: 'NoExecute' }] });
    expect(() => checkTargetNode(tainted, pod('p'))).toThrow(/maintenance:NoExecute/);
  });

  it('refuses when the toleration names the right key but another value', () => {
    const tainted = node('worker-2', { taints: [gpuTaint] });
    const wrongValue = podTolerating({ key: 'nvidia.com/gpu', operator: 'Equal', value: 'h100' });
    expect(() => checkTargetNode(tainted, wrongValue)).toThrow(TargetTaintNotToleratedError);
  });

  it('accepts tainted nodes whose taints are all tolerated', () => {
    const tainted = node('worker-2', {
      taints: [gpuTaint, { key: 'dedicated', value: 'ml', effect: 'NoExecute' }],
    });
    const tolerant = podTolerating(
      { key: 'nvidia.com/gpu', operator: 'Exists', effect: 'NoSchedule' },
      { key: 'dedicated', value: 'ml' },
    );
    expect(checkTargetNode(tainted, tolerant).warnings).toEqual([]);
  });

  it('only warns about an untolerated PreferNoSchedule taint', () => {
    const tainted = node('worker-2', { taints: [{ key: 'spot', effect: 'PreferNoSchedule' }] });
    const check = checkTargetNode(tainted, pod('p'));

    expect(check.warnings).toHaveLength(1);
    expect(check.warnings[0]).toMatch(/worker-2 has the taint spot:PreferNoSchedule/);
  });

  it('warns when a NoExecute taint is tolerated only for a while, with the shortest limit', () => {
    const tainted = node('worker-2', { taints: [{ key: 'spot', effect: 'NoExecute' }] });
    const limited = podTolerating(
      { key: 'spot', operator: 'Exists', tolerationSeconds: 600 },
      { operator: 'Exists', effect: 'NoExecute', tolerationSeconds: 120 },
    );
    const check = checkTargetNode(tainted, limited);

    expect(check.warnings).toEqual([expect.stringMatching(/spot:NoExecute .* only for 120 s/)]);
  });

  it('does not warn when no matching toleration sets a time limit, else takes the one set', () => {
    const tainted = node('worker-2', { taints: [{ key: 'spot', effect: 'NoExecute' }] });
    const forever = podTolerating({ key: 'spot', operator: 'Exists' });
    expect(checkTargetNode(tainted, forever).warnings).toEqual([]);

    // The taint eviction controller takes the shortest limit that is set.
    const mixed = podTolerating(
      { key: 'spot', operator: 'Exists' },
      { key: 'spot', operator: 'Exists', tolerationSeconds: 30 },
    );
    expect(checkTargetNode(tainted, mixed).warnings).toEqual([
      expect.stringMatching(/only for 30 s/),
    ]);
  });
});

describe('toleratesTaint', () => {
  const taint = { key: 'dedicated', value: 'ml', effect: 'NoSchedule' };

  it.each<[string, V1Toleration, boolean]>([
    [
      'Equal with key, value and effect',
      { key: 'dedicated', operator: 'Equal', value: 'ml', effect: 'NoSchedule' },
      true,
    ],
    ['the default operator (Equal)', { key: 'dedicated', value: 'ml' }, true],
    ['Equal with another value', { key: 'dedicated', operator: 'Equal', value: 'web' }, false],
    [
      'Equal without a value against a valued taint',
      { key: 'dedicated', operator: 'Equal' },
      false,
    ],
    ['Exists with the key, any value', { key: 'dedicated', operator: 'Exists' }, true],
    ['Exists with another key', { key: 'gpu', operator: 'Exists' }, false],
    ['Exists with an empty key (matches every taint)', { operator: 'Exists' }, true],
    ['an empty key with Equal (invalid)', { operator: 'Equal', value: 'ml' }, false],
    ['an empty effect (matches every effect)', { key: 'dedicated', value: 'ml' }, true],
    ['another effect', { key: 'dedicated', value: 'ml', effect: 'NoExecute' }, false],
    ['an unknown operator', { key: 'dedicated', operator: 'Gt', value: '1' }, false],
  ])('%s → %s', (_, toleration, expected) => {
    expect(toleratesTaint(toleration, taint)).toBe(expected);
  });

  it('matches a taint without a value by Equal without a value', () => {
    const bare = { key: 'spot', effect: 'NoSchedule' };
    expect(toleratesTaint({ key: 'spot', operator: 'Equal' }, bare)).toBe(true);
    expect(toleratesTaint({ key: 'spot', value: 'yes' }, bare)).toBe(false);
  });

  it('describes a taint as kubectl does', () => {
    expect(describeTaint(taint)).toBe('dedicated=ml:NoSchedule');
    expect(describeTaint({ key: 'spot', effect: 'NoExecute' })).toBe('spot:NoExecute');
  });
});
