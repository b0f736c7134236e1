import { readFile } from 'node:fs/promises';

import { ScaledObject } from '@kubernetes-models/keda/keda.sh/v1alpha1/ScaledObject';
import { PrometheusRule } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/PrometheusRule';
import { ServiceMonitor } from '@kubernetes-models/prometheus-operator/monitoring.coreos.com/v1/ServiceMonitor';
import { beforeAll, describe, expect, inject, it } from 'vitest';
import { parse } from 'yaml';

import { QUEUE_NAMES, type Stage } from '@aso/shared';

import { ALERTS_FILE } from '../../scripts/prometheus-rule.ts';
import { k8sPath, renderKustomization, type Manifest } from '../support/kustomize.ts';

/**
 * The components whose CRDs the local control plane lacks (KEDA, the Prometheus
 * Operator) cannot be applied here: k8s/overlays/full, the base with every component,
 * is rendered and each custom object is validated against its CRD's schema (the
 * @kubernetes-models packages are generated from them) and against the objects it
 * names: the Deployment it scales, the queue it reads, the Services and Secret it uses.
 */

const DASHBOARD_FILE = new URL('../../k8s/monitoring/dashboard.json', import.meta.url);
const WORKER_STAGES: Record<string, Stage> = {
  'aso-capture-worker': 'capture',
  'aso-pod-worker': 'pod',
  'aso-metrics-worker': 'metrics',
};

let rendered: Manifest[];
let base: Manifest[];

beforeAll(async () => {
  rendered = await renderKustomization(inject('kubeconfigPath'), k8sPath('overlays/full'));
  base = await renderKustomization(inject('kubeconfigPath'), k8sPath('base'));
});

function ofKind(kind: string): Manifest[] {
  return rendered.filter((m) => m.kind === kind);
}

function byName(kind: string, name: string): Manifest | undefined {
  return ofKind(kind).find((m) => m.metadata.name === name);
}

function settings(): Record<string, string> {
  return ofKind('ConfigMap').find((m) => m.metadata.name.startsWith('aso-config-'))?.data ?? {};
}

it('adds to the base without changing any of its objects', () => {
  for (const object of base) {
    const same = rendered.find(
      (m) => m.kind === object.kind && m.metadata.name === object.metadata.name,
    );
    expect(same, `${object.kind} ${object.metadata.name}`).toEqual(object);
  }
});

describe('KEDA component', () => {
  it('scales each worker Deployment with one valid ScaledObject', () => {
    const targets = ofKind('ScaledObject').map((object) => {
      new ScaledObject(object as never).validate();
      return (object.spec?.['scaleTargetRef'] as { name: string }).name;
    });

    expect(targets.sort()).toEqual(Object.keys(WORKER_STAGES).sort());
    for (const target of targets) expect(byName('Deployment', target)).toBeDefined();
  });

  it.each(Object.entries(WORKER_STAGES))('%s follows the wait list of its queue', (name, stage) => {
    const spec = byName('ScaledObject', name)?.spec as {
      minReplicaCount: number;
      maxReplicaCount: number;
      triggers: { type: string; metadata: Record<string, string> }[];
    };
    const [trigger] = spec.triggers;

    expect(spec.minReplicaCount).toBeGreaterThanOrEqual(1);
    expect(spec.maxReplicaCount).toBeGreaterThanOrEqual(spec.minReplicaCount);
    expect(trigger?.type).toBe('redis');
    expect(trigger?.metadata['listName']).toBe(
      `${settings()['ASO_KEY_PREFIX']}:${QUEUE_NAMES[stage]}:wait`,
    );
    expect(trigger?.metadata['address']).toBe(
      `${redisHost()}.${byName('Service', 'aso-redis')?.metadata.namespace}.svc:6379`,
    );
  });
});

/** The host of REDIS_URL in the settings: the Service the services connect to. */
function redisHost(): string {
  return new URL(settings()['REDIS_URL'] ?? '').hostname;
}

describe('monitoring component', () => {
  it('scrapes the API and every worker through valid ServiceMonitors', () => {
    const scraped = ofKind('ServiceMonitor').flatMap((monitor) => {
      new ServiceMonitor(monitor as never).validate();
      return servicesScrapedBy(monitor);
    });

    expect(scraped.sort()).toEqual(
      ['aso-api', ...Object.keys(WORKER_STAGES).map((w) => `${w}-metrics`)].sort(),
    );
  });

  it("authenticates to the API's /metrics with a token from a Secret it renders", () => {
    const endpoint = (byName('ServiceMonitor', 'aso-api')?.spec?.['endpoints'] as Endpoint[])[0];
    const credentials = endpoint?.authorization?.credentials;
    const secret = byName('Secret', credentials?.name ?? '');

    expect(endpoint?.authorization?.type).toBe('Bearer');
    expect(Object.keys(secret?.data ?? {})).toContain(credentials?.key);
  });

  it('wraps the alert rules of k8s/monitoring/alerts.yaml in a valid PrometheusRule', async () => {
    const [rule, ...others] = ofKind('PrometheusRule');
    const alerts = parse(await readFile(ALERTS_FILE, 'utf8')) as { groups: unknown[] };

    new PrometheusRule(rule as never).validate();
    expect(others).toEqual([]);
    // When this fails, run: node scripts/render-prometheus-rule.ts
    expect(rule?.spec?.['groups']).toEqual(alerts.groups);
  });

  it('ships k8s/monitoring/dashboard.json to Grafana as a labelled ConfigMap', async () => {
    const dashboard = byName('ConfigMap', 'aso-grafana-dashboard');
    const json = dashboard?.data?.['aso-overview.json'] ?? '';

    expect(dashboard?.metadata.labels?.['grafana_dashboard']).toBe('1');
    expect(JSON.parse(json)).toEqual(JSON.parse(await readFile(DASHBOARD_FILE, 'utf8')));
  });
});

interface Endpoint {
  port?: string;
  authorization?: { type?: string; credentials?: { name?: string; key?: string } };
}

interface LabelSelector {
  matchLabels?: Record<string, string>;
  matchExpressions?: { key: string; operator: string; values?: string[] }[];
}

/** The Services a ServiceMonitor selects that expose every port its endpoints name. */
function servicesScrapedBy(monitor: Manifest): string[] {
  const selector = monitor.spec?.['selector'] as LabelSelector;
  const ports = (monitor.spec?.['endpoints'] as Endpoint[]).map((endpoint) => endpoint.port);

  return ofKind('Service')
    .filter((service) => selects(selector, service.metadata.labels ?? {}))
    .filter((service) => {
      const named = (service.spec?.['ports'] as { name?: string }[]).map((port) => port.name);
      return ports.every((port) => named.includes(port));
    })
    .map((service) => service.metadata.name);
}

function selects(selector: LabelSelector, labels: Record<string, string>): boolean {
  const matches = Object.entries(selector.matchLabels ?? {}).every(([k, v]) => labels[k] === v);
  const expressions = (selector.matchExpressions ?? []).every((expression) => {
    const value = labels[expression.key];
    if (expression.operator === 'In') return expression.values?.includes(value ?? '') ?? false;
    throw new Error(`selector operator ${expression.operator} is not handled by this test`);
  });
  return matches && expressions;
}
