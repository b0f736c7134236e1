import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** The identities the harness hands out through the apiserver's static token file. */
export interface ClusterTokens {
  admin: string;
  scheduler: string;
  controllerManager: string;
}

export interface ClusterCredentials {
  tokens: ClusterTokens;
  tokenFile: string;
  serviceAccountPublicKeyFile: string;
  serviceAccountPrivateKeyFile: string;
}

function randomToken(): string {
  return randomBytes(32).toString('hex');
}

/**
 * One CSV line per user: token,user,uid,"groups"
 * (https://kubernetes.io/docs/reference/access-authn-authz/authentication/#static-token-file).
 * Every identity is in system:masters, which bypasses RBAC. That is acceptable only
 * because this is a throwaway cluster on loopback; the scheduler and controller-manager
 * keep their usual user names so audit-style log lines still read naturally.
 */
function tokenFileContent(tokens: ClusterTokens): string {
  const lines = [
    `${tokens.admin},aso-admin,aso-admin,"system:masters"`,
    `${tokens.scheduler},system:kube-scheduler,system:kube-scheduler,"system:masters"`,
    `${tokens.controllerManager},system:kube-controller-manager,system:kube-controller-manager,"system:masters"`,
  ];
  return `${lines.join('\n')}\n`;
}

/**
 * The service-account signing key pair: the apiserver signs tokens with the private key
 * and verifies them with the public one; the controller-manager signs legacy tokens too.
 */
function serviceAccountKeyPair(): { publicKey: string; privateKey: string } {
  return generateKeyPairSync('rsa', {
    modulusLength: 2048,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
}

export async function writeClusterCredentials(dir: string): Promise<ClusterCredentials> {
  const tokens = {
    admin: randomToken(),
    scheduler: randomToken(),
    controllerManager: randomToken(),
  };
  const keys = serviceAccountKeyPair();
  const credentials = {
    tokens,
    tokenFile: join(dir, 'tokens.csv'),
    serviceAccountPublicKeyFile: join(dir, 'service-account.pub'),
    serviceAccountPrivateKeyFile: join(dir, 'service-account.key'),
  };

  await writeFile(credentials.tokenFile, tokenFileContent(tokens), { mode: 0o600 });
  await writeFile(credentials.serviceAccountPublicKeyFile, keys.publicKey, { mode: 0o600 });
  await writeFile(credentials.serviceAccountPrivateKeyFile, keys.privateKey, { mode: 0o600 });
  return credentials;
}
