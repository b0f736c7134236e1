import {
  ApiException,
  CoreV1Api,
  CustomObjectsApi,
  KubeConfig,
  Watch,
} from '@kubernetes/client-node';

import {
  ConfigError,
  KubernetesRequestError,
  KubernetesUnavailableError,
  type OrchestratorError,
} from './errors.ts';

export interface KubeClients {
  kubeConfig: KubeConfig;
  core: CoreV1Api;
  customObjects: CustomObjectsApi;
  watch: Watch;
}

/**
 * Loads the cluster configuration: an explicit kubeconfig file, or the pod's
 * service account when running in a cluster. A developer's default kubeconfig
 * is deliberately never used unless named, so nothing acts on a real cluster by accident.
 */
export function loadKubeConfig(kubeconfigPath: string | undefined): KubeConfig {
  const kubeConfig = new KubeConfig();

  if (kubeconfigPath) {
    kubeConfig.loadFromFile(kubeconfigPath);
  } else if (process.env['KUBERNETES_SERVICE_HOST']) {
    kubeConfig.loadFromCluster();
  } else {
    throw new ConfigError(
      'no cluster configured: set ASO_KUBECONFIG to a kubeconfig file, or run inside a cluster',
    );
  }
  return kubeConfig;
}

export function createKubeClients(kubeConfig: KubeConfig): KubeClients {
  return {
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    customObjects: kubeConfig.makeApiClient(CustomObjectsApi),
    watch: new Watch(kubeConfig),
  };
}

/** The HTTP status of a failed Kubernetes API call, if the server answered at all. */
export function apiStatusCode(error: unknown): number | undefined {
  return error instanceof ApiException ? error.code : undefined;
}

export function isNotFound(error: unknown): boolean {
  return apiStatusCode(error) === 404;
}

export function isConflict(error: unknown): boolean {
  return apiStatusCode(error) === 409;
}

/**
 * The server's own explanation. client-node puts the raw response text in `body`
 * (a JSON Status document as a string) and a long dump in `message`.
 */
export function apiErrorMessage(error: unknown): string {
  if (!(error instanceof ApiException)) {
    return error instanceof Error ? error.message : String(error);
  }
  try {
    const status = JSON.parse(String(error.body)) as { message?: unknown };
    if (typeof status.message === 'string') return status.message;
  } catch {
    // The body was not a Status document; fall through to the status code.
  }
  return `HTTP ${error.code}`;
}

/** Maps a failed call to our hierarchy: overload and outages are retried, refusals are not. */
export function kubernetesError(error: unknown, action: string): OrchestratorError {
  const code = apiStatusCode(error);
  const message = `${action}: ${apiErrorMessage(error)}`;

  if (code === undefined || code === 429 || code >= 500) {
    return new KubernetesUnavailableError(message, { cause: error });
  }
  return new KubernetesRequestError(message, { cause: error });
}
