import { readFile } from 'node:fs/promises';
import { join } from 'node:path';

import { beforeAll, describe, expect, it } from 'vitest';

import { apiConfigSchema } from '@aso/api';
import { loadCaptureStageSettings } from '@aso/capture-worker';
import { loadPodStageSettings } from '@aso/pod-worker';
import { loadConfig, workerConfigSchema } from '@aso/shared';

import { ROOT } from '../support/build-context.ts';

/**
 * The settings k8s/base gives the services (config.env, turned into the ConfigMap
 * aso-config) must be accepted by each service's own configuration schema, and must
 * account for every variable README.md's Configuration table documents.
 */

/** Documented variables the ConfigMap leaves out on purpose, and why. */
const NOT_IN_CONFIG_MAP: Record<string, string> = {
  ASO_KUBECONFIG: 'in a pod the service uses its ServiceAccount',
  ASO_API_TOKENS: 'tokens come from the Secret mounted as ASO_API_TOKENS_FILE',
  METRICS_HOST: 'the default, every interface, is what the Service needs',
};

let configEnv: string;
let settings: Record<string, string>;
let deploymentEnv: string;

beforeAll(async () => {
  configEnv = await readFile(join(ROOT, 'k8s/base/config.env'), 'utf8');
  settings = envEntries(configEnv);
  deploymentEnv = (
    await Promise.all(
      ['api.yaml', 'workers.yaml'].map((file) => readFile(join(ROOT, 'k8s/base', file), 'utf8')),
    )
  ).join('\n');
});

/** KEY=VALUE lines, as kustomize's envs reads them (comments and blank lines skipped). */
function envEntries(text: string): Record<string, string> {
  const entries = text
    .split('\n')
    .map((line) => /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(line))
    .filter((match) => match !== null)
    .map((match): [string, string] => [match[1] ?? '', match[2] ?? '']);

  return Object.fromEntries(entries);
}

/** The variable names in the first column of README.md's Configuration table. */
async function documentedVariables(): Promise<string[]> {
  const readme = await readFile(join(ROOT, 'README.md'), 'utf8');
  const section = readme.split(/^## /m).find((part) => part.startsWith('Configuration\n')) ?? '';
  const firstCells = section
    .split('\n')
    .filter((line) => line.startsWith('| `'))
    .map((line) => line.split('|')[1] ?? '');

  return firstCells.flatMap((cell) =>
    [...cell.matchAll(/`([A-Z][A-Z0-9_]+)`/g)].map((m) => m[1] ?? ''),
  );
}

describe('k8s/base/config.env', () => {
  it('is accepted by the API and the workers', () => {
    const api = loadConfig(apiConfigSchema, { ...settings, HOST: '0.0.0.0', PORT: '8080' });
    const worker = loadConfig(workerConfigSchema, { ...settings, METRICS_PORT: '9464' });

    expect(api.ASO_KEY_PREFIX).toBe('aso');
    expect(worker.WORKER_CONCURRENCY).toBe(4);
    expect(loadCaptureStageSettings(settings)).toMatchObject({ maxInFlight: 5 });
    expect(loadPodStageSettings(settings).checkpoint.size).toBe('1Gi');
  });

  it('accounts for every variable of the README Configuration table', async () => {
    const documented = await documentedVariables();
    const unaccounted = documented.filter(
      (name) =>
        !(name in settings) &&
        !(name in NOT_IN_CONFIG_MAP) &&
        !configEnv.includes(name) &&
        !deploymentEnv.includes(`name: ${name}`),
    );

    expect(documented.length).toBeGreaterThan(20);
    expect(unaccounted).toEqual([]);
  });
});
