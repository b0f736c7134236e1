/** One sample of the Prometheus text exposition format: name, labels and value. */
export interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

const SAMPLE_LINE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
const LABEL_PAIR = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;

/** Every sample of the exposition text (comments skipped). */
export function parsePromText(text: string): PromSample[] {
  const samples: PromSample[] = [];
  for (const line of text.split('\n')) {
    if (line.startsWith('#')) continue;
    const match = SAMPLE_LINE.exec(line);
    if (!match) continue;
    const labels: Record<string, string> = {};
    for (const pair of (match[2] ?? '').matchAll(LABEL_PAIR)) labels[pair[1] ?? ''] = pair[2] ?? '';
    samples.push({ name: match[1] ?? '', labels, value: Number(match[3]) });
  }
  return samples;
}

/**
 * Sum of the samples named `name` across several services' texts, grouped by the
 * given labels (joined with " "), e.g. the Kubernetes requests by verb and resource.
 */
export function sumBy(
  texts: Iterable<string>,
  name: string,
  by: readonly string[],
  keep: (labels: Record<string, string>) => boolean = () => true,
): Map<string, number> {
  const sums = new Map<string, number>();
  for (const text of texts) {
    for (const sample of parsePromText(text)) {
      if (sample.name !== name || !keep(sample.labels)) continue;
      const key = by.map((label) => sample.labels[label] ?? '').join(' ');
      sums.set(key, (sums.get(key) ?? 0) + sample.value);
    }
  }
  return sums;
}

/** after - before, per key; keys whose difference is zero are left out. */
export function difference(
  after: Map<string, number>,
  before: Map<string, number>,
): Map<string, number> {
  const changed = new Map<string, number>();
  for (const [key, value] of after) {
    const delta = value - (before.get(key) ?? 0);
    if (delta !== 0) changed.set(key, delta);
  }
  return changed;
}
