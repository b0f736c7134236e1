import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { dumpYaml, KubeConfig } from '@kubernetes/client-node';

export interface KubeConfigInput {
  server: string;
  /** PEM bundle that verifies the apiserver's serving certificate. */
  caPem: string;
  token: string;
  userName: string;
}

const CLUSTER_NAME = 'aso-local';

export function buildKubeConfig(input: KubeConfigInput): KubeConfig {
  const kubeConfig = new KubeConfig();
  kubeConfig.loadFromOptions({
    clusters: [
      {
        name: CLUSTER_NAME,
        server: input.server,
        caData: Buffer.from(input.caPem).toString('base64'),
        skipTLSVerify: false,
      },
    ],
    users: [{ name: input.userName, token: input.token }],
    contexts: [{ name: CLUSTER_NAME, cluster: CLUSTER_NAME, user: input.userName }],
    currentContext: CLUSTER_NAME,
  });
  return kubeConfig;
}

/**
 * Writes the config as YAML readable by kubectl and by the Go components. exportConfig()
 * produces the kubeconfig-file field names (certificate-authority-data, ...).
 */
export async function writeKubeConfigFile(kubeConfig: KubeConfig, path: string): Promise<void> {
  const document: unknown = JSON.parse(kubeConfig.exportConfig());

  await mkdir(dirname(path), { recursive: true });
  await writeFile(path, dumpYaml(document), { mode: 0o600 });
  await chmod(path, 0o600);
}
