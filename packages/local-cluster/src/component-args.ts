import type { ClusterCredentials } from './credentials.ts';

/** Where each component listens and keeps its files; every address is 127.0.0.1. */
export interface ClusterLayout {
  dataDir: string;
  etcdClientPort: number;
  etcdPeerPort: number;
  apiserverPort: number;
  schedulerPort: number;
  controllerManagerPort: number;
  /** Directory the apiserver writes its self-signed serving bundle (apiserver.crt) into. */
  apiserverCertDir: string;
  schedulerCertDir: string;
  controllerManagerCertDir: string;
  schedulerKubeconfig: string;
  controllerManagerKubeconfig: string;
}

export const SERVICE_CLUSTER_IP_RANGE = '10.96.0.0/24';

const LOOPBACK = '127.0.0.1';

export function etcdArgs(layout: ClusterLayout): string[] {
  const clientUrl = `http://${LOOPBACK}:${layout.etcdClientPort}`;
  const peerUrl = `http://${LOOPBACK}:${layout.etcdPeerPort}`;
  return [
    '--name=aso-local',
    `--data-dir=${layout.dataDir}/etcd`,
    `--listen-client-urls=${clientUrl}`,
    `--advertise-client-urls=${clientUrl}`,
    `--listen-peer-urls=${peerUrl}`,
    `--initial-advertise-peer-urls=${peerUrl}`,
    `--initial-cluster=aso-local=${peerUrl}`,
    // Test data is disposable; skipping fsync makes etcd much faster on slow disks.
    '--unsafe-no-fsync=true',
    '--log-level=warn',
  ];
}

export function apiserverArgs(layout: ClusterLayout, credentials: ClusterCredentials): string[] {
  return [
    `--etcd-servers=http://${LOOPBACK}:${layout.etcdClientPort}`,
    `--bind-address=${LOOPBACK}`,
    `--secure-port=${layout.apiserverPort}`,
    // Without an explicit address the apiserver looks for the default-route interface,
    // which sandboxes may not have. With 127.0.0.1 advertised, the endpoint reconciler must
    // be off: loopback addresses are invalid in the `kubernetes` Service's endpoints.
    `--advertise-address=${LOOPBACK}`,
    '--endpoint-reconciler-type=none',
    `--cert-dir=${layout.apiserverCertDir}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    '--authorization-mode=Node,RBAC',
    `--token-auth-file=${credentials.tokenFile}`,
    '--service-account-issuer=https://kubernetes.default.svc.cluster.local',
    `--service-account-key-file=${credentials.serviceAccountPublicKeyFile}`,
    `--service-account-signing-key-file=${credentials.serviceAccountPrivateKeyFile}`,
    '--allow-privileged=true',
    // Simulated nodes publish made-up addresses. Restricting kubelet addresses to a type
    // they never publish makes logs/exec/proxy fail fast instead of dialling those addresses
    // (https://kubernetes.io/docs/reference/command-line-tools-reference/kube-apiserver/).
    '--kubelet-preferred-address-types=InternalDNS',
  ];
}

/*
 * The scheduler and controller-manager get no --authentication-kubeconfig: delegated
 * authentication reads kube-system/extension-apiserver-authentication, which this
 * apiserver (no client CA) never creates, and retries forever. Their /healthz stays
 * reachable because it is one of the --authorization-always-allow-paths.
 */
export function schedulerArgs(layout: ClusterLayout): string[] {
  return [
    `--kubeconfig=${layout.schedulerKubeconfig}`,
    '--leader-elect=false',
    `--bind-address=${LOOPBACK}`,
    `--secure-port=${layout.schedulerPort}`,
    `--cert-dir=${layout.schedulerCertDir}`,
  ];
}

export function controllerManagerArgs(
  layout: ClusterLayout,
  credentials: ClusterCredentials,
  rootCaFile: string,
): string[] {
  return [
    `--kubeconfig=${layout.controllerManagerKubeconfig}`,
    '--leader-elect=false',
    '--controllers=*',
    `--service-account-private-key-file=${credentials.serviceAccountPrivateKeyFile}`,
    `--root-ca-file=${rootCaFile}`,
    `--service-cluster-ip-range=${SERVICE_CLUSTER_IP_RANGE}`,
    `--bind-address=${LOOPBACK}`,
    `--secure-port=${layout.controllerManagerPort}`,
    `--cert-dir=${layout.controllerManagerCertDir}`,
  ];
}
