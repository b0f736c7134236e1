import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';

import { format, resolveConfig } from 'prettier';

import { ALERTS_FILE, PROMETHEUS_RULE_FILE, prometheusRuleFor } from './prometheus-rule.ts';

// Rewrites k8s/components/monitoring/prometheus-rule.yaml from k8s/monitoring/alerts.yaml,
// formatted as `npm run format:check` expects.
const target = fileURLToPath(PROMETHEUS_RULE_FILE);
const text = prometheusRuleFor(await readFile(ALERTS_FILE, 'utf8'));
const options = await resolveConfig(target);

await writeFile(target, await format(text, { ...options, filepath: target }));
