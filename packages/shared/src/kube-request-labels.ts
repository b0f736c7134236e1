/** How a Kubernetes API request is labelled in metrics: values from small, fixed sets. */
export interface KubeRequestLabels {
  verb: string;
  resource: string;
}

/** A resource, group or subresource name as the API server spells them; anything else is "other". */
const API_NAME = /^[a-z0-9][a-z0-9.-]{0,62}$/;

/** Paths outside /api and /apis the services call (readiness asks for /version). */
const NON_RESOURCE_PATHS = new Set(['version', 'healthz', 'livez', 'readyz', 'openapi']);

const VERB_OF_METHOD: Record<string, string> = {
  POST: 'create',
  PUT: 'update',
  PATCH: 'patch',
};

/**
 * The Kubernetes verb and resource of a request, from its method and URL. Names of
 * objects and namespaces are dropped, so a label never holds a pod name: the resource
 * is the plural with its group and subresource, e.g. `pods`, `pods/eviction`,
 * `replicasets.apps` or `pods.metrics.k8s.io`.
 */
export function kubeRequestLabels(method: string, url: URL): KubeRequestLabels {
  const segments = url.pathname.split('/').filter((segment) => segment !== '');
  const target = resourceTarget(segments);
  const upper = method.toUpperCase();

  if (!target) {
    const first = segments[0] ?? '';
    return {
      verb: upper === 'GET' ? 'get' : 'other',
      resource: NON_RESOURCE_PATHS.has(first) ? first : 'other',
    };
  }

  const watch = target.watchPath || ['true', '1'].includes(url.searchParams.get('watch') ?? '');
  return { verb: verbOf(upper, target.named, watch), resource: target.resource };
}

interface ResourceTarget {
  resource: string;
  /** The URL names one object (…/pods/<name>), rather than a collection. */
  named: boolean;
  /** The legacy /watch/ path form. */
  watchPath: boolean;
}

/** Reads /api/v1/… and /apis/<group>/<version>/…, optionally namespaced; null for other paths. */
function resourceTarget(segments: string[]): ResourceTarget | null {
  let group: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length >= 3) {
    group = '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length >= 4) {
    group = segments[1] ?? '';
    rest = segments.slice(3);
  } else {
    return null;
  }

  const watchPath = rest[0] === 'watch';
  if (watchPath) rest = rest.slice(1);
  // namespaces/<ns>/<resource>/… is namespaced; namespaces/<name> is the namespace itself.
  if (rest[0] === 'namespaces' && rest.length >= 3) rest = rest.slice(2);

  const [plural = '', name, subresource] = rest;
  const parts = [plural, group, subresource].filter(
    (part): part is string => part !== undefined && part !== '',
  );
  if (!parts.every((part) => API_NAME.test(part))) {
    return { resource: 'other', named: name !== undefined, watchPath };
  }

  const withGroup = group === '' ? plural : `${plural}.${group}`;
  return {
    resource: subresource === undefined ? withGroup : `${withGroup}/${subresource}`,
    named: name !== undefined,
    watchPath,
  };
}

function verbOf(method: string, named: boolean, watch: boolean): string {
  if (method === 'GET') {
    if (watch) return 'watch';
    return named ? 'get' : 'list';
  }
  if (method === 'DELETE') return named ? 'delete' : 'deletecollection';
  return VERB_OF_METHOD[method] ?? 'other';
}
