import { describe, expect, it } from 'vitest';

import { ConfigError } from '../errors.ts';
import type { V1Pod } from '@kubernetes/client-node';

import { labelSelectorOf, policySchema } from './policy.ts';
import { parsePolicyFile } from './policy-file.ts';
import { parseThreshold, thresholdForPod } from './threshold.ts';

const valid = {
  name: 'hot-trainers',
  namespace: 'ml',
  selector: { match_labels: { app: 'trainer', 'aso.dev/tier': 'gpu' } },
  metric: 'cpu',
  threshold: '800m',
  target_nodes: ['worker-2', 'worker-3'],
};

function problems(input: unknown): string[] {
  const parsed = policySchema.safeParse(input);
  if (parsed.success) return [];
  return parsed.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).sort();
}

describe('a policy', () => {
  it('takes defaults for what it leaves out', () => {
    expect(policySchema.parse(valid)).toEqual({
      ...valid,
      for_seconds: 60,
      dry_run: false,
      cooldown_seconds: 300,
      max_in_flight: 1,
      preserve_pv: false,
    });
  });

  it('reads the threshold in the unit of its metric, or as a percentage', () => {
    expect(parseThreshold('cpu', '800m')).toEqual({ kind: 'quantity', value: 800 });
    expect(parseThreshold('cpu', '2')).toEqual({ kind: 'quantity', value: 2000 });
    expect(parseThreshold('memory', '1Gi')).toEqual({ kind: 'quantity', value: 2 ** 30 });
    expect(parseThreshold('cpu', '80%')).toEqual({ kind: 'percent-of-requests', percent: 80 });
  });

  it("applies a percentage to the pod's summed requests, only when every container has one", () => {
    const pod = (requests: (string | undefined)[]): V1Pod => ({
      spec: {
        containers: requests.map((cpu, index) => ({
          name: `c${String(index)}`,
          resources: cpu === undefined ? {} : { requests: { cpu } },
        })),
      },
    });
    const policy = { metric: 'cpu' as const, threshold: '80%' };

    expect(thresholdForPod(policy, pod(['500m', '500m']))).toEqual({
      value: 800,
      text: '80% of the requested 1 (800m)',
    });
    expect(thresholdForPod(policy, pod(['500m', undefined]))).toEqual({
      unavailable: 'container c1 requests no cpu: a threshold of 80% of the requests cannot apply',
    });
    const memory = { metric: 'memory' as const, threshold: '90%' };
    const requested: V1Pod = {
      spec: { containers: [{ name: 'c1', resources: { requests: { memory: '256Mi' } } }] },
    };
    expect(thresholdForPod(memory, requested)).toMatchObject({
      text: '90% of the requested 256Mi (230.4Mi)',
    });
    expect(thresholdForPod({ metric: 'cpu', threshold: '750m' }, pod([]))).toEqual({
      value: 750,
      text: '750m',
    });
  });

  it('turns its selector into a label selector', () => {
    expect(labelSelectorOf(policySchema.parse(valid))).toBe('app=trainer,aso.dev/tier=gpu');
  });

  it('names each invalid field', () => {
    expect(
      problems({
        ...valid,
        name: 'Hot_Trainers',
        metric: 'gpu',
        threshold: 'lots',
        for_seconds: -1,
        target_nodes: [],
        extra: true,
      }),
    ).toEqual([
      ': unknown field(s): extra',
      'for_seconds: for_seconds must not be negative',
      'metric: metric must be "cpu" or "memory"',
      expect.stringMatching(/^name: name must be a DNS label/),
      'target_nodes: target_nodes must name at least one node',
    ]);
    expect(problems({ ...valid, threshold: 'lots' })).toEqual([
      'threshold: threshold "lots" is neither a Kubernetes quantity (e.g. "800m" or "2") ' +
        'nor a percentage of the requests (e.g. "80%")',
    ]);
    expect(problems({ ...valid, threshold: '0' })).toEqual([
      'threshold: threshold must be greater than zero',
    ]);
    expect(problems({ ...valid, threshold: '2000%' })).toEqual([
      'threshold: a percentage threshold must be at most 1000%',
    ]);
  });

  it('refuses an empty or malformed selector and repeated targets', () => {
    expect(problems({ ...valid, selector: { match_labels: {} } })).toEqual([
      'selector.match_labels: match_labels must name at least one label',
    ]);
    expect(
      problems({ ...valid, selector: { match_labels: { 'bad key!': 'x', ok: '-no' } } }),
    ).toEqual([
      expect.stringMatching(/^selector\.match_labels\.bad key!: label key "bad key!" is invalid/),
      expect.stringMatching(/^selector\.match_labels\.ok: label value "-no" of "ok" is invalid/),
    ]);
    expect(problems({ ...valid, selector: { app: 'x' } })).toEqual([
      'selector.match_labels: match_labels must be an object of label keys and values',
      'selector: unknown field(s): app',
    ]);
    expect(problems({ ...valid, target_nodes: ['worker-2', 'worker-2'] })).toEqual([
      'target_nodes: target_nodes must not repeat a node',
    ]);
    // Parsed JSON keeps "__proto__" as an own key, as a request body would.
    const selector = JSON.parse('{"match_labels": {"__proto__": "x"}}') as unknown;
    expect(problems({ ...valid, selector })).toEqual([
      expect.stringMatching(/^selector\.match_labels\.__proto__: label key "__proto__" is invalid/),
    ]);
  });

  it('says what is wrong with a threshold out of range or in the wrong unit', () => {
    expect(problems({ ...valid, threshold: '1e400' })).toEqual([
      'threshold: threshold "1e400" is too large',
    ]);
    expect(problems({ ...valid, threshold: '1n' })).toEqual([
      'threshold: threshold "1n" is below 1m, the smallest cpu usage measured',
    ]);
    expect(problems({ ...valid, threshold: '1Gi' })).toEqual([
      'threshold: threshold "1Gi" is a memory size: a cpu threshold is in cores ("2") ' +
        'or millicores ("800m")',
    ]);
    expect(problems({ ...valid, metric: 'memory', threshold: '1Gi' })).toEqual([]);
    expect(policySchema.parse({ ...valid, threshold: ' 80% ' }).threshold).toBe('80%');
  });
});

describe('the policy file', () => {
  it('reads YAML and JSON alike', () => {
    const yaml = [
      'policies:',
      '  - name: hot-trainers',
      '    namespace: ml',
      '    selector: { match_labels: { app: trainer } }',
      '    metric: memory',
      '    threshold: 1Gi',
      '    for_seconds: 120',
      '    target_nodes: [worker-2]',
      '    dry_run: true',
    ].join('\n');
    const json = JSON.stringify({ policies: [{ ...valid, name: 'json-policy' }] });

    expect(parsePolicyFile(yaml, 'policies.yaml')).toMatchObject([
      { name: 'hot-trainers', metric: 'memory', for_seconds: 120, dry_run: true },
    ]);
    expect(parsePolicyFile(json, 'policies.json')).toMatchObject([{ name: 'json-policy' }]);
  });

  it('names the file and every invalid field, list position included', () => {
    const text = JSON.stringify({
      policies: [valid, { ...valid, threshold: 'lots' }, { ...valid, namespace: undefined }],
    });

    expect(() => parsePolicyFile(text, 'p.json')).toThrow(ConfigError);
    expect(() => parsePolicyFile(text, 'p.json')).toThrow(
      'ASO_POLICIES_FILE p.json is invalid: ' +
        'policies[1].threshold: threshold "lots" is neither a Kubernetes quantity ' +
        '(e.g. "800m" or "2") nor a percentage of the requests (e.g. "80%"); ' +
        'policies[2].namespace: namespace must be a string',
    );
    const twice = JSON.stringify({ policies: [valid, { ...valid, threshold: '1' }] });
    expect(() => parsePolicyFile(twice, 'p.json')).toThrow(
      'ASO_POLICIES_FILE p.json is invalid: policies[1].name: the name hot-trainers is used twice',
    );
  });

  it('refuses a file that is not a policies document', () => {
    expect(() => parsePolicyFile('[1, 2', 'p.yaml')).toThrow(/p\.yaml is neither JSON nor YAML/);
    expect(() => parsePolicyFile('- a\n- b', 'p.yaml')).toThrow(
      'ASO_POLICIES_FILE p.yaml is invalid: (file): the file must hold an object with a "policies" list',
    );
  });
});
