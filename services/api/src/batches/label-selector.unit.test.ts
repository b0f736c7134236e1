import { describe, expect, it } from 'vitest';

import { ValidationError } from '@aso/shared';

import {
  formatLabelSelector,
  matchesLabels,
  matchLabelsRequirements,
  parseLabelSelector,
} from './label-selector.ts';

describe('parseLabelSelector', () => {
  it('reads every form kubectl accepts', () => {
    expect(
      parseLabelSelector('app=web, tier==front,env!=dev,zone in (a, b),team notin (x),gpu,!spot'),
    ).toEqual([
      { key: 'app', operator: 'In', values: ['web'] },
      { key: 'tier', operator: 'In', values: ['front'] },
      { key: 'env', operator: 'NotIn', values: ['dev'] },
      { key: 'zone', operator: 'In', values: ['a', 'b'] },
      { key: 'team', operator: 'NotIn', values: ['x'] },
      { key: 'gpu', operator: 'Exists', values: [] },
      { key: 'spot', operator: 'DoesNotExist', values: [] },
    ]);
  });

  it('accepts prefixed keys and empty values', () => {
    expect(parseLabelSelector('app.kubernetes.io/name=web,aso.dev/batch=')).toEqual([
      { key: 'app.kubernetes.io/name', operator: 'In', values: ['web'] },
      { key: 'aso.dev/batch', operator: 'In', values: [''] },
    ]);
  });

  it.each([
    ['', /the selector is empty/],
    ['app=web,,tier=a', /empty requirement/],
    ['app=web=x', /not a label requirement/],
    ['app in ()', /names no values/],
    ['app in (a', /not a label requirement/],
    ['-app=web', /label key "-app" is invalid/],
    ['Bad_Prefix/app=web', /invalid prefix/],
    [`app=${'v'.repeat(64)}`, /label value/],
    ['app=we b', /not a label requirement/],
    ['app>3', /label key "app>3" is invalid/],
  ])('refuses %j with a field error', (selector, message) => {
    const attempt = () => parseLabelSelector(selector);
    expect(attempt).toThrow(ValidationError);
    expect(attempt).toThrow(message);
    try {
      attempt();
    } catch (error) {
      expect((error as ValidationError).fields[0]?.field).toBe('selector');
    }
  });
});

describe('matchLabelsRequirements', () => {
  it('turns each label into an In requirement and checks keys and values', () => {
    expect(matchLabelsRequirements({ app: 'web' })).toEqual([
      { key: 'app', operator: 'In', values: ['web'] },
    ]);
    expect(() => matchLabelsRequirements({ 'a b': 'x' })).toThrow(/label key "a b"/);
  });
});

describe('matchesLabels and formatLabelSelector', () => {
  const requirements = parseLabelSelector('app=web,zone in (a,b),!spot,env!=dev');

  it('ANDs the requirements', () => {
    expect(matchesLabels(requirements, { app: 'web', zone: 'a' })).toBe(true);
    expect(matchesLabels(requirements, { app: 'web', zone: 'c' })).toBe(false);
    expect(matchesLabels(requirements, { app: 'web', zone: 'a', spot: 'yes' })).toBe(false);
    expect(matchesLabels(requirements, { app: 'web', zone: 'b', env: 'dev' })).toBe(false);
    expect(matchesLabels(requirements, undefined)).toBe(false);
  });

  it('formats a canonical selector that parses back to the same requirements', () => {
    const text = formatLabelSelector(requirements);
    expect(text).toBe('app=web,zone in (a,b),!spot,env!=dev');
    expect(parseLabelSelector(text)).toEqual(requirements);
  });
});
