import { describe, expect, it } from 'vitest';

import { difference, parsePromText, sumBy } from './prom-text.ts';

const API = `# HELP aso_kubernetes_requests_total Kubernetes API requests
# TYPE aso_kubernetes_requests_total counter
aso_kubernetes_requests_total{verb="get",resource="pods",code="200",service="api"} 2
aso_kubernetes_requests_total{verb="get",resource="pods",code="404",service="api"} 1
aso_kubernetes_request_duration_seconds_sum{verb="get",resource="pods"} 0.5
`;
const WORKER = `aso_kubernetes_requests_total{verb="watch",resource="pods",code="200"} 3
aso_kubernetes_requests_total{verb="get",resource="pods",code="200"} 4
process_cpu_seconds_total 1.25
`;

describe('parsePromText', () => {
  it('reads names, labels and values, and skips comments', () => {
    const samples = parsePromText(WORKER);
    expect(samples).toHaveLength(3);
    expect(samples[0]).toEqual({
      name: 'aso_kubernetes_requests_total',
      labels: { verb: 'watch', resource: 'pods', code: '200' },
      value: 3,
    });
    expect(samples[2]).toEqual({ name: 'process_cpu_seconds_total', labels: {}, value: 1.25 });
  });

  it('keeps escaped quotes inside a label value', () => {
    const [sample] = parsePromText('m{reason="a \\"b\\" c"} 1');
    expect(sample?.labels['reason']).toBe('a \\"b\\" c');
  });
});

describe('sumBy and difference', () => {
  it('sums one metric across services by the named labels', () => {
    const sums = sumBy([API, WORKER], 'aso_kubernetes_requests_total', ['verb', 'resource']);
    expect(sums).toEqual(
      new Map([
        ['get pods', 7],
        ['watch pods', 3],
      ]),
    );
  });

  it('filters samples by their labels', () => {
    const sums = sumBy([API, WORKER], 'aso_kubernetes_requests_total', [], (labels) => {
      return labels['verb'] !== 'watch';
    });
    expect(sums.get('')).toBe(7);
  });

  it('keeps only what changed between two readings', () => {
    const before = new Map([
      ['get pods', 7],
      ['watch pods', 3],
    ]);
    const after = new Map([
      ['get pods', 9],
      ['watch pods', 3],
      ['create pods', 1],
    ]);
    expect(difference(after, before)).toEqual(
      new Map([
        ['get pods', 2],
        ['create pods', 1],
      ]),
    );
  });
});
