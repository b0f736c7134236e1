import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

import { describe, expect, it } from 'vitest';

import { requirePrometheusTool } from '../support/prometheus.ts';

const MONITORING = fileURLToPath(new URL('../../k8s/monitoring/', import.meta.url));

function promtool(...args: string[]): { status: number | null; output: string } {
  const run = spawnSync(requirePrometheusTool('promtool'), args, {
    cwd: MONITORING,
    encoding: 'utf8',
  });
  return { status: run.status, output: `${run.stdout}${run.stderr}` };
}

describe('k8s/monitoring/alerts.yaml', () => {
  it('is a valid rule file (promtool check rules)', () => {
    const { status, output } = promtool('check', 'rules', 'alerts.yaml');
    expect(status, output).toBe(0);
    expect(output).toMatch(/SUCCESS: \d+ rules found/);
  });

  it('fires exactly as its unit tests expect (promtool test rules)', () => {
    const { status, output } = promtool('test', 'rules', 'alerts.test.yaml');
    expect(status, output).toBe(0);
  });
});
