import { NamespaceNotAllowedError } from './access-errors.ts';

/**
 * Refuses a migration in a namespace outside the allow-list (ASO_ALLOWED_NAMESPACES).
 * Called before the pre-flight, so a refused request never reaches the cluster.
 * Without an allow-list every namespace is allowed.
 */
export function requireAllowedNamespace(
  allowed: ReadonlySet<string> | undefined,
  namespace: string,
): void {
  if (allowed !== undefined && !allowed.has(namespace)) {
    throw new NamespaceNotAllowedError(namespace);
  }
}
