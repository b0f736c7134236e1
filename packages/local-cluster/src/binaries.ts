import { access, constants } from 'node:fs/promises';
import { join } from 'node:path';

export interface ControlPlaneBinaries {
  etcd: string;
  apiserver: string;
  scheduler: string;
  controllerManager: string;
}

async function requireExecutable(binDir: string, name: string): Promise<string> {
  const path = join(binDir, name);
  try {
    await access(path, constants.X_OK);
  } catch {
    throw new Error(
      `${name} was not found (or is not executable) in ${binDir}. ` +
        'Build the local control plane first: npm run controlplane:build',
    );
  }

  return path;
}

export async function locateBinaries(binDir: string): Promise<ControlPlaneBinaries> {
  return {
    etcd: await requireExecutable(binDir, 'etcd'),
    apiserver: await requireExecutable(binDir, 'kube-apiserver'),
    scheduler: await requireExecutable(binDir, 'kube-scheduler'),
    controllerManager: await requireExecutable(binDir, 'kube-controller-manager'),
  };
}
