import type { V1Pod } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import {
  chooseTargetNode,
  describeRejections,
  podsByNodeName,
  withPlacement,
} from './target-choice.ts';
import { container, node, pod } from './test-fixtures.ts';

const worker = (name: string, options: Parameters<typeof node>[1] = {}) => node(name, options);
const busy = (name: string, where: string, cpu: string, memory: string): V1Pod =>
  pod(name, { nodeName: where, containers: [container('main', { cpu, memory })] });

describe('chooseTargetNode', () => {
  const moving = pod('train-0', { containers: [container('main', { cpu: '1', memory: '1Gi' })] });
  const nodes = [worker('worker-1'), worker('worker-2'), worker('worker-3')];

  it('never chooses the node the pod runs on, and picks the one with most room left', () => {
    const pods = podsByNodeName([
      busy('a', 'worker-2', '2', '4Gi'),
      busy('b', 'worker-3', '1', '1Gi'),
    ]);
    const choice = chooseTargetNode({ pod: moving, nodes, podsByNode: pods });

    expect(choice.node).toBe('worker-3');
    expect(choice.rejected).toEqual([
      { node: 'worker-1', code: 'source-node', reason: 'the pod runs there already' },
    ]);
    // worker-3 keeps 2 of 4 CPUs and 6 of 8 GiB free after the pod: (0.5 + 0.75) / 2.
    expect(choice.score).toBeCloseTo(0.625);
  });

  it('breaks a tie by node name, so the same cluster always gives the same answer', () => {
    expect(chooseTargetNode({ pod: moving, nodes, podsByNode: new Map() }).node).toBe('worker-2');
  });

  it('accounts for pods already placed on a node by the same batch', () => {
    let pods = podsByNodeName([]);
    const first = chooseTargetNode({ pod: moving, nodes, podsByNode: pods });
    pods = withPlacement(pods, first.node ?? '', moving);
    const second = chooseTargetNode({ pod: moving, nodes, podsByNode: pods });

    expect([first.node, second.node]).toEqual(['worker-2', 'worker-3']);
  });

  it('leaves out NotReady, cordoned and untolerated tainted nodes with the pre-flight code', () => {
    const choice = chooseTargetNode({
      pod: moving,
      nodes: [
        worker('worker-1'),
        worker('worker-2', { ready: 'False' }),
        worker('worker-3', { unschedulable: true }),
        worker('gpu-1', { taints: [{ key: 'gpu', effect: 'NoSchedule' }] }),
      ],
      podsByNode: new Map(),
    });

    expect(choice.node).toBeNull();
    expect(choice.rejected.map((r) => [r.node, r.code])).toEqual([
      ['worker-1', 'source-node'],
      ['worker-2', 'target-node-not-ready'],
      ['worker-3', 'target-node-cordoned'],
      ['gpu-1', 'target-taint-not-tolerated'],
    ]);
  });

  it('honours the pod nodeSelector and its required node affinity', () => {
    const zoned = (zone: string) => ({ 'kubernetes.io/hostname': 'x', zone });
    const picky = pod('picky', {
      nodeSelector: { disk: 'ssd' },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchExpressions: [{ key: 'zone', operator: 'In', values: ['b'] }] },
            ],
          },
        },
      },
    });
    const choice = chooseTargetNode({
      pod: picky,
      nodes: [
        worker('n-a', { labels: { ...zoned('a'), disk: 'ssd' } }),
        worker('n-b-hdd', { labels: { ...zoned('b'), disk: 'hdd' } }),
        worker('n-b', { labels: { ...zoned('b'), disk: 'ssd' } }),
      ],
      podsByNode: new Map(),
    });

    expect(choice.node).toBe('n-b');
    expect(choice.rejected.map((r) => [r.node, r.code])).toEqual([
      ['n-a', 'node-affinity-mismatch'],
      ['n-b-hdd', 'node-selector-mismatch'],
    ]);
  });

  it('ignores what pins the pod to its current host, as the new pod drops it', () => {
    const pinned = pod('pinned', {
      nodeSelector: { 'kubernetes.io/hostname': 'worker-1' },
      affinity: {
        nodeAffinity: {
          requiredDuringSchedulingIgnoredDuringExecution: {
            nodeSelectorTerms: [
              { matchFields: [{ key: 'metadata.name', operator: 'In', values: ['worker-1'] }] },
            ],
          },
        },
      },
    });
    expect(chooseTargetNode({ pod: pinned, nodes, podsByNode: new Map() }).node).toBe('worker-2');
  });

  it('tolerated taints and excluded nodes are honoured', () => {
    const tolerant = pod('tolerant', {
      tolerations: [{ key: 'gpu', operator: 'Exists', effect: 'NoSchedule' }],
    });
    const choice = chooseTargetNode({
      pod: tolerant,
      nodes: [
        worker('worker-2'),
        worker('gpu-1', { taints: [{ key: 'gpu', effect: 'NoSchedule' }] }),
      ],
      podsByNode: new Map(),
      exclude: ['worker-2'],
    });
    expect(choice.node).toBe('gpu-1');
  });

  it('refuses when nothing has room, and says why per node', () => {
    const huge = pod('huge', { containers: [container('main', { cpu: '8', memory: '1Gi' })] });
    const choice = chooseTargetNode({ pod: huge, nodes, podsByNode: new Map() });

    expect(choice).toMatchObject({ node: null, capacity: null, score: null });
    expect(describeRejections(choice.rejected)).toBe(
      'worker-1: the pod runs there already; worker-2: not enough free cpu for the pod; ' +
        'worker-3: not enough free cpu for the pod',
    );
  });

  it('ignores finished pods, which hold no resources', () => {
    const done = busy('done', 'worker-2', '4', '8Gi');
    done.status = { phase: 'Succeeded' };
    const choice = chooseTargetNode({
      pod: moving,
      nodes: [worker('worker-1'), worker('worker-2')],
      podsByNode: podsByNodeName([done]),
    });
    expect(choice.node).toBe('worker-2');
  });
});
