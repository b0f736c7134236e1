import { readFile } from 'node:fs/promises';

import { loadAllYaml, type V1ClusterRole } from '@kubernetes/client-node';

import type { RecordedCall } from './apiserver-recorder.ts';

/**
 * What RBAC checks for a request, as `verb group/resource` ("get /pods",
 * "create /pods/eviction", "get metrics.k8s.io/pods"); null for a path that is not a
 * resource (/version, /api, /openapi/...).
 * https://kubernetes.io/docs/reference/access-authn-authz/authorization/#determine-the-request-verb
 */
export function requestAttributes(call: Pick<RecordedCall, 'method' | 'path'>): string | null {
  const url = new URL(call.path, 'http://apiserver');
  const segments = url.pathname.split('/').filter(Boolean);

  let group: string;
  let rest: string[];
  if (segments[0] === 'api' && segments.length > 2) {
    group = '';
    rest = segments.slice(2);
  } else if (segments[0] === 'apis' && segments.length > 3) {
    group = segments[1] ?? '';
    rest = segments.slice(3);
  } else {
    return null;
  }

  // namespaces/<ns>/<resource>... is namespaced; namespaces/<ns> alone is the Namespace.
  if (rest[0] === 'namespaces' && rest.length > 2) rest = rest.slice(2);
  const [resource, name, subresource] = rest;
  const watched = ['true', '1'].includes(url.searchParams.get('watch') ?? '');

  const verb = requestVerb(call.method, name !== undefined, watched);
  const fullResource = subresource ? `${resource ?? ''}/${subresource}` : (resource ?? '');
  return `${verb} ${group}/${fullResource}`;
}

function requestVerb(method: string, named: boolean, watched: boolean): string {
  switch (method) {
    case 'GET':
      if (watched) return 'watch';
      return named ? 'get' : 'list';
    case 'POST':
      return 'create';
    case 'PUT':
      return 'update';
    case 'PATCH':
      return 'patch';
    case 'DELETE':
      return named ? 'delete' : 'deletecollection';
    default:
      return method.toLowerCase();
  }
}

/** Every `verb group/resource` the ClusterRoles whose name `roleNames` accepts grant. */
export async function grantedAttributes(
  rbacFile: string | URL,
  roleNames: (name: string) => boolean,
): Promise<Set<string>> {
  const documents = loadAllYaml(await readFile(rbacFile, 'utf8')) as { kind?: string }[];
  const roles = documents.filter((d): d is V1ClusterRole => d.kind === 'ClusterRole');

  const granted = new Set<string>();
  for (const role of roles.filter((r) => roleNames(r.metadata?.name ?? ''))) {
    for (const rule of role.rules ?? []) {
      for (const group of rule.apiGroups ?? []) {
        for (const resource of rule.resources ?? []) {
          for (const verb of rule.verbs) granted.add(`${verb} ${group}/${resource}`);
        }
      }
    }
  }
  return granted;
}

/** The SelfSubjectAccessReview attributes of a `verb group/resource[/subresource]` string. */
export function reviewAttributes(
  attributes: string,
  namespace: string | undefined,
): { verb: string; group: string; resource: string; subresource?: string; namespace?: string } {
  const [verb = '', groupResource = ''] = attributes.split(' ');
  const [group = '', resource = '', subresource] = groupResource.split('/');

  return {
    verb,
    group,
    resource,
    ...(subresource ? { subresource } : {}),
    ...(namespace ? { namespace } : {}),
  };
}
