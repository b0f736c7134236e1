import { describe, expect, it } from 'vitest';

import { ConfigError, loadConfig } from '@aso/shared';

import { apiConfigSchema } from './server.ts';

describe('the access settings of the API', () => {
  it('allows every namespace and 120 requests a minute unless told otherwise', () => {
    const config = loadConfig(apiConfigSchema, {});

    expect(config.ASO_ALLOWED_NAMESPACES).toBeUndefined();
    expect(config.ASO_RATE_LIMIT_PER_MINUTE).toBe(120);
  });

  it('reads the namespace allow-list as a comma-separated list', () => {
    const config = loadConfig(apiConfigSchema, {
      ASO_ALLOWED_NAMESPACES: ' team-a, ml-training ,',
      ASO_RATE_LIMIT_PER_MINUTE: '0',
    });

    expect(config.ASO_ALLOWED_NAMESPACES).toEqual(['team-a', 'ml-training']);
    expect(config.ASO_RATE_LIMIT_PER_MINUTE).toBe(0);
  });

  it.each([
    ['an empty allow-list', { ASO_ALLOWED_NAMESPACES: ' , ' }, 'name at least one namespace'],
    ['a namespace that cannot exist', { ASO_ALLOWED_NAMESPACES: 'Team_A' }, 'namespace name'],
    ['a negative rate limit', { ASO_RATE_LIMIT_PER_MINUTE: '-1' }, 'ASO_RATE_LIMIT_PER_MINUTE'],
  ])('refuses %s', (_what, env, expected) => {
    expect(() => loadConfig(apiConfigSchema, env)).toThrow(ConfigError);
    expect(() => loadConfig(apiConfigSchema, env)).toThrow(expected);
  });
});
