/**
 * Just enough of Kubernetes resource.Quantity for usage figures: parse the canonical
 * forms ("250m", "1.5", "512Mi", "1e3") and print values the way metrics-server does
 * (https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/).
 *
 * Deliberately separate from the product's own parser in @aso/shared: the simulator
 * stands in for the kubelet and metrics-server, so a mistake in one parser shows up
 * as a disagreement in the end-to-end tests instead of being shared by both sides.
 */
const MULTIPLIERS: Readonly<Record<string, number>> = {
  n: 1e-9,
  u: 1e-6,
  m: 1e-3,
  '': 1,
  k: 1e3,
  M: 1e6,
  G: 1e9,
  T: 1e12,
  P: 1e15,
  E: 1e18,
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY = /^(\d+(?:\.\d*)?|\.\d+)(?:([eE][+-]?\d+)|(Ki|Mi|Gi|Ti|Pi|Ei|[numkMGTPE]))?$/;

/** The quantity in base units (cores, bytes), or undefined when it is not a valid quantity. */
export function parseQuantity(text: string): number | undefined {
  const match = QUANTITY.exec(text.trim());
  if (match === null) {
    return undefined;
  }

  const [, digits = '', exponent, suffix = ''] = match;
  const value = exponent === undefined ? Number(digits) : Number(`${digits}${exponent}`);
  const multiplier = MULTIPLIERS[suffix] ?? 1;
  return Number.isFinite(value) ? value * multiplier : undefined;
}

export function cpuToNanocores(cores: number): number {
  return Math.round(cores * 1e9);
}

export function memoryToBytes(bytes: number): number {
  return Math.ceil(bytes);
}

/** Millicores when exact ("900m"), nanocores otherwise ("1234567n"), like metrics-server. */
export function formatCpu(nanocores: number): string {
  if (nanocores % 1e6 === 0) {
    return `${nanocores / 1e6}m`;
  }

  return `${nanocores}n`;
}

/** The largest binary suffix that divides evenly ("1536Mi"), plain bytes otherwise. */
export function formatMemory(bytes: number): string {
  for (const suffix of ['Gi', 'Mi', 'Ki']) {
    const unit = MULTIPLIERS[suffix] ?? 1;
    if (bytes !== 0 && bytes % unit === 0) {
      return `${bytes / unit}${suffix}`;
    }
  }

  return `${bytes}`;
}
