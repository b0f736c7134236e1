import { describe, expect, it } from 'vitest';

import { matchesSelector, selectorKeys, selectorQuery } from './label-selector.ts';

const selector = {
  matchLabels: { app: 'web', 'pod-template-hash': '5d9f' },
  matchExpressions: [
    { key: 'tier', operator: 'In', values: ['front', 'edge'] },
    { key: 'canary', operator: 'DoesNotExist' },
  ],
};

describe('label selectors', () => {
  it('matches labels that meet every requirement, and nothing less', () => {
    const labels = { app: 'web', 'pod-template-hash': '5d9f', tier: 'edge', extra: 'x' };

    expect(matchesSelector(selector, labels)).toBe(true);
    expect(matchesSelector(selector, { ...labels, app: 'api' })).toBe(false);
    expect(matchesSelector(selector, { ...labels, tier: 'back' })).toBe(false);
    expect(matchesSelector(selector, { ...labels, canary: 'yes' })).toBe(false);
  });

  it('reads NotIn and Exists as the API server does, and an unknown operator as no match', () => {
    const notIn = { matchExpressions: [{ key: 'env', operator: 'NotIn', values: ['prod'] }] };
    const exists = { matchExpressions: [{ key: 'env', operator: 'Exists' }] };
    const odd = { matchExpressions: [{ key: 'env', operator: 'Gt', values: ['1'] }] };

    expect(matchesSelector(notIn, {})).toBe(true);
    expect(matchesSelector(notIn, { env: 'prod' })).toBe(false);
    expect(matchesSelector(exists, { env: '' })).toBe(true);
    expect(matchesSelector(exists, {})).toBe(false);
    expect(matchesSelector(odd, { env: '2' })).toBe(false);
    expect(matchesSelector({}, { any: 'thing' })).toBe(true);
  });

  it('lists its keys once and writes the labelSelector query form', () => {
    expect(selectorKeys(selector)).toEqual(['app', 'pod-template-hash', 'tier', 'canary']);
    expect(selectorQuery(selector)).toBe(
      'app=web,pod-template-hash=5d9f,tier in (front,edge),!canary',
    );
    expect(
      selectorQuery({
        matchExpressions: [
          { key: 'env', operator: 'NotIn', values: ['a', 'b'] },
          { key: 'gpu', operator: 'Exists' },
        ],
      }),
    ).toBe('env notin (a,b),gpu');
  });
});
