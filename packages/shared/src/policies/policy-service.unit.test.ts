import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

import { afterAll, beforeAll, describe, expect, it } from 'vitest';

import { loadConfig } from '../config.ts';
import { ConfigError } from '../errors.ts';
import { startRefusalFields } from '../worker-service.ts';
import { policyConfigSchema, preparePolicyEvaluator } from './policy-service.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'aso-policies-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('the policy settings at start', () => {
  it('refuse a policy file with an invalid policy, naming the field', async () => {
    const path = join(dir, 'bad.yaml');
    await writeFile(
      path,
      [
        'policies:',
        '  - name: hot',
        '    namespace: ml',
        '    selector: { match_labels: { app: trainer } }',
        '    metric: cpu',
        '    threshold: 800m',
        '    target_nodes: []',
      ].join('\n'),
    );

    const start = preparePolicyEvaluator({ ASO_POLICIES_FILE: path });

    await expect(start).rejects.toThrow(ConfigError);
    await expect(start).rejects.toThrow(
      `ASO_POLICIES_FILE ${path} is invalid: ` +
        'policies[0].target_nodes: target_nodes must name at least one node',
    );
  });

  it('refuse a file that cannot be read, and an interval out of bounds', async () => {
    const missing = join(dir, 'missing.json');

    await expect(preparePolicyEvaluator({ ASO_POLICIES_FILE: missing })).rejects.toThrow(
      `ASO_POLICIES_FILE ${missing} cannot be read`,
    );
    await expect(preparePolicyEvaluator({ ASO_POLICY_INTERVAL_SECONDS: '0' })).rejects.toThrow(
      /^invalid configuration: ASO_POLICY_INTERVAL_SECONDS: /,
    );
  });

  it('accept no file at all: policies then come from the API', async () => {
    await expect(preparePolicyEvaluator({})).resolves.toBeTypeOf('function');
  });

  it('stop the worker with one short line for a bad file, without a stack', async () => {
    const path = join(dir, 'short.json');
    await writeFile(path, JSON.stringify({ policies: [{ name: 'x' }] }));

    const refusal = await preparePolicyEvaluator({ ASO_POLICIES_FILE: path }).catch(
      (error: unknown) => error,
    );

    const fields = startRefusalFields(refusal);
    expect(Object.keys(fields)).toEqual(['reason']);
    expect(String(fields['reason'])).toMatch(/^ASO_POLICIES_FILE .* is invalid: policies\[0\]\./);
    expect(JSON.stringify(fields).length).toBeLessThan(600);
    expect(startRefusalFields(new Error('boom'))).toHaveProperty('err');
  });

  it('take the default interval for one set but empty', () => {
    expect(loadConfig(policyConfigSchema, { ASO_POLICY_INTERVAL_SECONDS: '' })).toMatchObject({
      ASO_POLICY_INTERVAL_SECONDS: 30,
    });
    expect(loadConfig(policyConfigSchema, {})).toMatchObject({ ASO_POLICY_INTERVAL_SECONDS: 30 });
  });
});
