import { X509Certificate } from 'node:crypto';

const PEM_BLOCK = /-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g;

/**
 * The apiserver's generated apiserver.crt holds the serving certificate followed by the
 * self-signed CA that issued it. Clients and the controller-manager's --root-ca-file want
 * only the CA: the ClusterTrustBundle publisher rejects bundles with non-CA entries.
 */
export function caCertificates(bundlePem: string): string {
  const blocks = bundlePem.match(PEM_BLOCK) ?? [];
  const authorities = blocks.filter((block) => new X509Certificate(block).ca);
  if (authorities.length === 0) {
    throw new Error('the serving certificate bundle contains no CA certificate');
  }

  return `${authorities.join('\n')}\n`;
}
