import { CoreV1Api } from '@kubernetes/client-node';
import type { LocalCluster } from '@aso/local-cluster';

import type { BenchContext } from '../lib/types.ts';
import { Product, type ProductOptions } from './product.ts';
import { createNamespace } from './sample-pods.ts';

/** What a measure of items 1, 2, 5, 7 and 9 works with. */
export interface Session {
  cluster: LocalCluster;
  /** A namespace of this measure's own, removed at its end. */
  namespace: string;
  product: Product;
}

/**
 * Runs `body` with the run's shared cluster, a fresh namespace and the product (the
 * gateway and the workers as child processes on a Redis prefix of their own), and
 * removes the product, its keys and the namespace afterwards, whatever happened.
 */
export async function withSession<T>(
  context: BenchContext,
  options: Omit<ProductOptions, 'kubeconfigPath' | 'redisUrl'>,
  body: (session: Session) => Promise<T>,
): Promise<T> {
  const cluster = await context.cluster();
  const namespace = await createNamespace(cluster.kubeConfig, 'bench-b');
  try {
    const product = await Product.start({
      ...options,
      kubeconfigPath: cluster.kubeconfigPath,
      redisUrl: context.redisUrl,
    });
    try {
      return await body({ cluster, namespace, product });
    } finally {
      await product.stop();
    }
  } finally {
    await cluster.kubeConfig
      .makeApiClient(CoreV1Api)
      .deleteNamespace({ name: namespace, gracePeriodSeconds: 0 })
      .catch(() => undefined);
  }
}
