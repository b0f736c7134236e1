import { describe, expect, it } from 'vitest';

import { baseConfigSchema, loadConfig } from './config.ts';
import { ConfigError } from './errors.ts';
import { hasHashTag, resolveRedisTopology } from './redis-topology.ts';

function load(env: Record<string, string>) {
  return loadConfig(baseConfigSchema, env);
}

describe('Redis topology settings', () => {
  it('defaults to the local standalone server', () => {
    expect(resolveRedisTopology(load({}))).toEqual({
      kind: 'standalone',
      url: 'redis://127.0.0.1:6379',
      credentials: {},
    });
  });

  it('reads a cluster from REDIS_CLUSTER_NODES with the password of REDIS_PASSWORD', () => {
    const config = load({
      REDIS_CLUSTER_NODES: '10.0.0.1:7000, redis-1.example:7001,[::1]:7002',
      REDIS_PASSWORD: 'secret',
      ASO_KEY_PREFIX: '{aso}',
    });

    expect(resolveRedisTopology(config)).toEqual({
      kind: 'cluster',
      nodes: [
        { host: '10.0.0.1', port: 7000 },
        { host: 'redis-1.example', port: 7001 },
        { host: '::1', port: 7002 },
      ],
      credentials: { password: 'secret' },
      tls: false,
    });
  });

  it('reads Sentinel from REDIS_SENTINELS and REDIS_SENTINEL_MASTER', () => {
    const config = load({
      REDIS_SENTINELS: 'sentinel-0:26379,sentinel-1:26379',
      REDIS_SENTINEL_MASTER: 'mymaster',
      REDIS_USERNAME: 'aso',
      REDIS_PASSWORD: 'secret',
      REDIS_TLS: 'true',
    });

    expect(resolveRedisTopology(config)).toMatchObject({
      kind: 'sentinel',
      master: 'mymaster',
      sentinels: [
        { host: 'sentinel-0', port: 26379 },
        { host: 'sentinel-1', port: 26379 },
      ],
      credentials: { username: 'aso', password: 'secret' },
      tls: true,
    });
  });

  it.each([
    [
      { REDIS_CLUSTER_NODES: 'a:1', REDIS_SENTINELS: 'b:2', REDIS_SENTINEL_MASTER: 'm' },
      'not both',
    ],
    [{ REDIS_CLUSTER_NODES: 'a:1', REDIS_URL: 'redis://a:1' }, 'unset REDIS_URL'],
    [{ REDIS_SENTINELS: 'b:2' }, 'REDIS_SENTINEL_MASTER: required'],
    [{ REDIS_SENTINEL_MASTER: 'm' }, 'set both or neither'],
    [{ REDIS_URL: 'redis://:a@h:1', REDIS_PASSWORD: 'b' }, 'keep one of the two'],
    [{ REDIS_TLS: 'true' }, 'rediss://'],
    [{ REDIS_CLUSTER_NODES: 'a:1' }, 'ASO_KEY_PREFIX={aso}'],
    [{ REDIS_CLUSTER_NODES: 'a:1', ASO_KEY_PREFIX: 'tenant-a' }, 'ASO_KEY_PREFIX={tenant-a}'],
    [{ REDIS_CLUSTER_NODES: 'a' }, 'host:port'],
    [{ REDIS_SENTINELS: 'b:99999', REDIS_SENTINEL_MASTER: 'm' }, 'host:port'],
  ])('refuses %j with a message that says what to do', (env, message) => {
    expect(() => load(env)).toThrow(ConfigError);
    expect(() => load(env)).toThrow(message);
  });

  it('also refuses a conflict in settings that did not pass through loadConfig', () => {
    const config = baseConfigSchema.parse({ REDIS_CLUSTER_NODES: 'a:1' });

    expect(() => resolveRedisTopology(config)).toThrow(/hash tag/);
  });
});

describe('ASO_KEY_PREFIX', () => {
  it.each(['aso', '{aso}', 'prod-{aso}', '{aso}.v2'])('accepts %s', (prefix) => {
    expect(load({ ASO_KEY_PREFIX: prefix }).ASO_KEY_PREFIX).toBe(prefix);
  });

  it.each(['', '{}', 'a{b', '{a}{b}', 'a b', 'a:b'])('refuses %j', (prefix) => {
    expect(() => load({ ASO_KEY_PREFIX: prefix })).toThrow(ConfigError);
  });

  it('knows a prefix whose keys all hash on its tag', () => {
    expect(hasHashTag('{aso}')).toBe(true);
    expect(hasHashTag('prod-{aso}')).toBe(true);
    expect(hasHashTag('aso')).toBe(false);
  });
});
