import type { V1NodeSelectorRequirement } from '@kubernetes/client-node';
import { describe, expect, it } from 'vitest';

import {
  describeNodeSelector,
  matchesNodeSelector,
  matchesNodeSelectorTerm,
} from './node-selector.ts';
import { node } from './test-fixtures.ts';

const worker = node('worker-2', {
  labels: {
    'kubernetes.io/hostname': 'worker-2',
    'topology.kubernetes.io/zone': 'eu-west-1b',
    'example.com/gpu-count': '4',
  },
});

function expression(key: string, operator: string, values?: string[]): V1NodeSelectorRequirement {
  return { key, operator, ...(values ? { values } : {}) };
}

const zone = 'topology.kubernetes.io/zone';
const gpus = 'example.com/gpu-count';

describe('node selector requirements', () => {
  it.each<[string, V1NodeSelectorRequirement, boolean]>([
    ['In with the value', expression(zone, 'In', ['eu-west-1a', 'eu-west-1b']), true],
    ['In without the value', expression(zone, 'In', ['eu-west-1a']), false],
    ['In on a missing label', expression('disk', 'In', ['ssd']), false],
    ['NotIn without the value', expression(zone, 'NotIn', ['eu-west-1a']), true],
    ['NotIn with the value', expression(zone, 'NotIn', ['eu-west-1b']), false],
    ['NotIn on a missing label', expression('disk', 'NotIn', ['ssd']), true],
    ['Exists on a present label', expression(zone, 'Exists'), true],
    ['Exists on a missing label', expression('disk', 'Exists'), false],
    ['DoesNotExist on a missing label', expression('disk', 'DoesNotExist'), true],
    ['DoesNotExist on a present label', expression(zone, 'DoesNotExist'), false],
    ['Gt below the label', expression(gpus, 'Gt', ['2']), true],
    ['Gt equal to the label', expression(gpus, 'Gt', ['4']), false],
    ['Lt above the label', expression(gpus, 'Lt', ['8']), true],
    ['Lt equal to the label', expression(gpus, 'Lt', ['4']), false],
    ['Gt on a label that is not an integer', expression(zone, 'Gt', ['1']), false],
    ['Gt with a bound that is not an integer', expression(gpus, 'Gt', ['1.5']), false],
    ['Gt with two bounds', expression(gpus, 'Gt', ['1', '2']), false],
    ['Gt on a missing label', expression('disk', 'Gt', ['1']), false],
    ['an unknown operator', expression(zone, 'Matches', ['eu-*']), false],
  ])('%s → %s', (_, requirement, expected) => {
    expect(matchesNodeSelectorTerm({ matchExpressions: [requirement] }, worker)).toBe(expected);
  });

  it('compares 64-bit integers without losing digits', () => {
    const big = node('n', { labels: { serial: '9007199254740993' } });
    const term = { matchExpressions: [expression('serial', 'Gt', ['9007199254740992'])] };
    expect(matchesNodeSelectorTerm(term, big)).toBe(true);
  });

  it('matches metadata.name as a field with In and NotIn only', () => {
    const field = (operator: string, values: string[]) => ({
      matchFields: [expression('metadata.name', operator, values)],
    });
    expect(matchesNodeSelectorTerm(field('In', ['worker-2']), worker)).toBe(true);
    expect(matchesNodeSelectorTerm(field('In', ['worker-1']), worker)).toBe(false);
    expect(matchesNodeSelectorTerm(field('NotIn', ['worker-1']), worker)).toBe(true);
    expect(matchesNodeSelectorTerm(field('Exists', []), worker)).toBe(false);

    const otherField = { matchFields: [expression('metadata.uid', 'In', ['worker-2'])] };
    expect(matchesNodeSelectorTerm(otherField, worker)).toBe(false);
  });
});

describe('node selectors', () => {
  it('ANDs the requirements of a term, labels and fields alike', () => {
    const term = {
      matchExpressions: [expression(zone, 'In', ['eu-west-1b']), expression(gpus, 'Gt', ['8'])],
    };
    expect(matchesNodeSelectorTerm(term, worker)).toBe(false);

    const withField = {
      matchExpressions: [expression(zone, 'In', ['eu-west-1b'])],
      matchFields: [expression('metadata.name', 'In', ['worker-3'])],
    };
    expect(matchesNodeSelectorTerm(withField, worker)).toBe(false);
  });

  it('ORs the terms', () => {
    const selector = {
      nodeSelectorTerms: [
        { matchExpressions: [expression(zone, 'In', ['eu-west-1a'])] },
        { matchExpressions: [expression(zone, 'In', ['eu-west-1b'])] },
      ],
    };
    expect(matchesNodeSelector(selector, worker)).toBe(true);
    expect(
      matchesNodeSelector({ nodeSelectorTerms: [selector.nodeSelectorTerms[0] ?? {}] }, worker),
    ).toBe(false);
  });

  it('matches no node with an empty term or no terms', () => {
    expect(matchesNodeSelector({ nodeSelectorTerms: [{}] }, worker)).toBe(false);
    expect(matchesNodeSelector({ nodeSelectorTerms: [] }, worker)).toBe(false);
  });

  it('describes a selector on one line', () => {
    const selector = {
      nodeSelectorTerms: [
        { matchExpressions: [expression(zone, 'In', ['a', 'b']), expression('disk', 'Exists')] },
        { matchFields: [expression('metadata.name', 'In', ['worker-1'])] },
      ],
    };
    expect(describeNodeSelector(selector)).toBe(
      `${zone} In [a, b] and disk Exists, or metadata.name In [worker-1]`,
    );
  });
});
