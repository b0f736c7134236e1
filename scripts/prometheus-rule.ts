import { parse, stringify } from 'yaml';

/**
 * The alert rules of k8s/monitoring/alerts.yaml (a Prometheus rule file, checked by
 * promtool) as the Prometheus Operator's PrometheusRule, so that both stay one source.
 * Kustomize cannot embed a file in an object's spec, so the PrometheusRule of
 * k8s/components/monitoring is written by scripts/render-prometheus-rule.ts, and
 * test/e2e/manifest-components.e2e.test.ts fails when it no longer matches.
 */
export const ALERTS_FILE = new URL('../k8s/monitoring/alerts.yaml', import.meta.url);
export const PROMETHEUS_RULE_FILE = new URL(
  '../k8s/components/monitoring/prometheus-rule.yaml',
  import.meta.url,
);

const HEADER = [
  '# Written by `node scripts/render-prometheus-rule.ts` from k8s/monitoring/alerts.yaml:',
  '# edit the alerts there, then run it again.',
].join('\n');

interface RuleFile {
  groups: unknown[];
}

function isRuleFile(value: unknown): value is RuleFile {
  return typeof value === 'object' && value !== null && Array.isArray((value as RuleFile).groups);
}

/** The PrometheusRule text for the content of a Prometheus rule file. */
export function prometheusRuleFor(alertsYaml: string): string {
  const rules: unknown = parse(alertsYaml);
  if (!isRuleFile(rules)) throw new Error('the alert rules file has no groups list');

  const rule = {
    apiVersion: 'monitoring.coreos.com/v1',
    kind: 'PrometheusRule',
    metadata: {
      name: 'aso-alerts',
      labels: { 'app.kubernetes.io/component': 'monitoring' },
    },
    spec: { groups: rules.groups },
  };
  return `${HEADER}\n${stringify(rule, { lineWidth: 0 })}`;
}
