/** A route as Hono lists it in `app.routes`. */
export interface RegisteredRoute {
  method: string;
  path: string;
}

/**
 * The methods the gateway answers on a path, for the Allow header of a 405: a
 * request that found no route may still name a known path with the wrong method
 * (RFC 9110 §15.5.6). Middleware (registered for ALL) says nothing about that.
 * HEAD is answered wherever GET is, as Hono runs the GET handler for it.
 */
export function allowedMethods(routes: readonly RegisteredRoute[], path: string): string[] {
  const allowed = new Set<string>();
  for (const route of routes) {
    if (route.method === 'ALL' || !pathPattern(route.path).test(path)) continue;
    allowed.add(route.method);
    if (route.method === 'GET') allowed.add('HEAD');
  }
  return [...allowed].sort();
}

const patterns = new Map<string, RegExp>();

/** `/migrations/:id/events` as a regular expression: a parameter is one segment, `*` any rest. */
function pathPattern(template: string): RegExp {
  let pattern = patterns.get(template);
  if (pattern === undefined) {
    const segments = template.split('/').map((segment) => {
      if (segment.startsWith(':')) return '[^/]+';
      if (segment === '*') return '.*';
      return segment.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    });
    pattern = new RegExp(`^${segments.join('/')}$`);
    patterns.set(template, pattern);
  }
  return pattern;
}
