import { z } from 'zod';

import { ConfigError } from './errors.ts';

/** Where Redis listens when REDIS_URL and every other topology setting is unset. */
export const DEFAULT_REDIS_URL = 'redis://127.0.0.1:6379';

export interface RedisAddress {
  host: string;
  port: number;
}

/**
 * A comma-separated list of host:port (an IPv6 host in brackets: [::1]:7000),
 * as REDIS_CLUSTER_NODES and REDIS_SENTINELS take it.
 */
export const redisAddressListSchema = z.string().transform((value, context) => {
  const entries = value
    .split(',')
    .map((entry) => entry.trim())
    .filter((entry) => entry !== '');
  const addresses = entries.map(parseAddress);

  if (addresses.length === 0 || addresses.some((address) => address === null)) {
    context.addIssue({ code: 'custom', message: 'use a comma-separated list of host:port' });
    return z.NEVER;
  }
  return addresses.filter((address) => address !== null);
});

function parseAddress(entry: string): RedisAddress | null {
  const match = /^(?:\[([^\]]+)\]|([^:[\]]+)):(\d{1,5})$/.exec(entry);
  const host = match?.[1] ?? match?.[2];
  const port = Number(match?.[3]);
  if (host === undefined || !Number.isInteger(port) || port < 1 || port > 65535) return null;
  return { host, port };
}

/** The settings that say which Redis to use; every service's configuration carries them. */
export interface RedisSettings {
  REDIS_URL?: string | undefined;
  REDIS_USERNAME?: string | undefined;
  REDIS_PASSWORD?: string | undefined;
  REDIS_TLS?: boolean | undefined;
  REDIS_CLUSTER_NODES?: RedisAddress[] | undefined;
  REDIS_SENTINELS?: RedisAddress[] | undefined;
  REDIS_SENTINEL_MASTER?: string | undefined;
  REDIS_SENTINEL_PASSWORD?: string | undefined;
  ASO_KEY_PREFIX?: string | undefined;
}

export interface RedisCredentials {
  username?: string;
  password?: string;
}

export type RedisTopology =
  | { kind: 'standalone'; url: string; credentials: RedisCredentials }
  | {
      kind: 'sentinel';
      sentinels: RedisAddress[];
      master: string;
      credentials: RedisCredentials;
      sentinelPassword?: string;
      tls: boolean;
    }
  | { kind: 'cluster'; nodes: RedisAddress[]; credentials: RedisCredentials; tls: boolean };

/**
 * Every conflict between the Redis settings, as "SETTING: what is wrong and what to
 * do" lines; empty when they name exactly one topology.
 */
export function redisTopologyProblems(settings: RedisSettings): string[] {
  const cluster = settings.REDIS_CLUSTER_NODES !== undefined;
  const sentinel = settings.REDIS_SENTINELS !== undefined;
  const problems: string[] = [];

  if (cluster && sentinel) {
    problems.push(
      'REDIS_CLUSTER_NODES: set either REDIS_CLUSTER_NODES (Redis Cluster) or REDIS_SENTINELS ' +
        '(Sentinel), not both',
    );
  }
  if ((cluster || sentinel) && settings.REDIS_URL !== undefined) {
    problems.push(
      `REDIS_URL: names a single server while ${cluster ? 'REDIS_CLUSTER_NODES' : 'REDIS_SENTINELS'} ` +
        'is set; unset REDIS_URL and give the credentials in REDIS_USERNAME and REDIS_PASSWORD',
    );
  }
  problems.push(...sentinelProblems(settings, sentinel));
  problems.push(...standaloneProblems(settings, cluster || sentinel));
  if (cluster) problems.push(...clusterPrefixProblems(settings.ASO_KEY_PREFIX));
  return problems;
}

function sentinelProblems(settings: RedisSettings, sentinel: boolean): string[] {
  if (sentinel && settings.REDIS_SENTINEL_MASTER === undefined) {
    return ['REDIS_SENTINEL_MASTER: required with REDIS_SENTINELS: the name the sentinels monitor'];
  }
  if (!sentinel && settings.REDIS_SENTINEL_MASTER !== undefined) {
    return ['REDIS_SENTINEL_MASTER: only used with REDIS_SENTINELS; set both or neither'];
  }
  if (!sentinel && settings.REDIS_SENTINEL_PASSWORD !== undefined) {
    return ['REDIS_SENTINEL_PASSWORD: only used with REDIS_SENTINELS'];
  }
  return [];
}

function standaloneProblems(settings: RedisSettings, otherTopology: boolean): string[] {
  if (otherTopology) return [];

  const problems: string[] = [];
  if (settings.REDIS_TLS !== undefined) {
    problems.push('REDIS_TLS: for a single server, write rediss:// in REDIS_URL instead');
  }
  const url = settings.REDIS_URL === undefined ? null : new URL(settings.REDIS_URL);
  if (url?.password && settings.REDIS_PASSWORD !== undefined) {
    problems.push('REDIS_PASSWORD: REDIS_URL carries a password already; keep one of the two');
  }
  if (url?.username && settings.REDIS_USERNAME !== undefined) {
    problems.push('REDIS_USERNAME: REDIS_URL carries a user name already; keep one of the two');
  }
  return problems;
}

/**
 * Redis Cluster runs a script or a transaction only on keys of one hash slot. The
 * queues' scripts and the store's transactions span many keys, so every key must
 * carry the same hash tag: the prefix must contain one, e.g. "{aso}". A prefix is
 * not wrapped behind the operator's back, so the key names stay what they set.
 */
function clusterPrefixProblems(prefix: string | undefined): string[] {
  if (prefix !== undefined && hasHashTag(prefix)) return [];
  return [
    `ASO_KEY_PREFIX: with REDIS_CLUSTER_NODES the prefix must contain a hash tag so that all ` +
      `keys share one slot; set ASO_KEY_PREFIX={${prefix ?? 'aso'}}`,
  ];
}

/** Whether every key starting with `prefix` hashes on a non-empty tag inside the prefix. */
export function hasHashTag(prefix: string): boolean {
  return /^[^{]*\{[^}]+\}/.test(prefix);
}

/** Resolves the settings into one topology; throws ConfigError naming every conflict. */
export function resolveRedisTopology(settings: RedisSettings): RedisTopology {
  const problems = redisTopologyProblems(settings);
  if (problems.length > 0) {
    throw new ConfigError(`invalid Redis configuration: ${problems.join('; ')}`);
  }

  const credentials = credentialsOf(settings);
  const tls = settings.REDIS_TLS ?? false;
  if (settings.REDIS_CLUSTER_NODES) {
    return { kind: 'cluster', nodes: settings.REDIS_CLUSTER_NODES, credentials, tls };
  }
  if (settings.REDIS_SENTINELS && settings.REDIS_SENTINEL_MASTER !== undefined) {
    return {
      kind: 'sentinel',
      sentinels: settings.REDIS_SENTINELS,
      master: settings.REDIS_SENTINEL_MASTER,
      credentials,
      ...(settings.REDIS_SENTINEL_PASSWORD === undefined
        ? {}
        : { sentinelPassword: settings.REDIS_SENTINEL_PASSWORD }),
      tls,
    };
  }
  return { kind: 'standalone', url: settings.REDIS_URL ?? DEFAULT_REDIS_URL, credentials };
}

function credentialsOf(settings: RedisSettings): RedisCredentials {
  return {
    ...(settings.REDIS_USERNAME === undefined ? {} : { username: settings.REDIS_USERNAME }),
    ...(settings.REDIS_PASSWORD === undefined ? {} : { password: settings.REDIS_PASSWORD }),
  };
}
