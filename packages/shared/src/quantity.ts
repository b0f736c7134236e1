/**
 * Kubernetes resource quantities, as far as CPU and memory need them.
 * See https://kubernetes.io/docs/reference/kubernetes-api/common-definitions/quantity/
 */
const DECIMAL_SUFFIXES: Record<string, number> = {
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
};

const BINARY_SUFFIXES: Record<string, number> = {
  Ki: 2 ** 10,
  Mi: 2 ** 20,
  Gi: 2 ** 30,
  Ti: 2 ** 40,
  Pi: 2 ** 50,
  Ei: 2 ** 60,
};

const QUANTITY_PATTERN = /^([+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?)([a-zA-Z]*)$/;

/** Parses a quantity into its value in base units (cores, bytes). */
export function parseQuantity(quantity: string): number {
  const match = QUANTITY_PATTERN.exec(quantity.trim());
  const suffix = match?.[2] ?? '';
  const multiplier = BINARY_SUFFIXES[suffix] ?? DECIMAL_SUFFIXES[suffix];
  if (!match?.[1] || multiplier === undefined) {
    throw new Error(`invalid resource quantity "${quantity}"`);
  }
  return Number(match[1]) * multiplier;
}

/** CPU quantity in whole millicores, rounded up as the kubelet does for requests. */
export function cpuToMillicores(quantity: string): number {
  return Math.ceil(Math.round(parseQuantity(quantity) * 1e6) / 1e3);
}

/** Memory quantity in whole bytes. */
export function memoryToBytes(quantity: string): number {
  return Math.ceil(parseQuantity(quantity));
}

export function formatMillicores(millicores: number): string {
  if (millicores !== 0 && millicores % 1000 === 0) return String(millicores / 1000);
  return `${millicores}m`;
}

/** Formats bytes with the largest binary suffix that keeps the value whole. */
export function formatBytes(bytes: number): string {
  const suffixes = Object.entries(BINARY_SUFFIXES).reverse();
  for (const [suffix, size] of suffixes) {
    if (bytes !== 0 && bytes % size === 0) return `${bytes / size}${suffix}`;
  }
  return String(bytes);
}
