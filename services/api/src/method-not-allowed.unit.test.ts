import { describe, expect, it } from 'vitest';

import { allowedMethods } from './method-not-allowed.ts';

const ROUTES = [
  { method: 'ALL', path: '*' },
  { method: 'POST', path: '/api/v1/migrations' },
  { method: 'GET', path: '/api/v1/migrations' },
  { method: 'GET', path: '/api/v1/migrations/:id' },
  { method: 'DELETE', path: '/api/v1/migrations/:id' },
  { method: 'GET', path: '/api/v1/migrations/:id/events' },
  { method: 'GET', path: '/docs/openapi.json' },
];

describe('allowed methods', () => {
  it('lists the methods of the routes that match the path, HEAD beside GET', () => {
    expect(allowedMethods(ROUTES, '/api/v1/migrations')).toEqual(['GET', 'HEAD', 'POST']);
    expect(allowedMethods(ROUTES, '/api/v1/migrations/abc')).toEqual(['DELETE', 'GET', 'HEAD']);
    expect(allowedMethods(ROUTES, '/api/v1/migrations/abc/events')).toEqual(['GET', 'HEAD']);
  });

  it('knows no method for a path no route takes, whatever the middleware', () => {
    expect(allowedMethods(ROUTES, '/api/v1/migrations/abc/events/more')).toEqual([]);
    expect(allowedMethods(ROUTES, '/api/v1/migrations/')).toEqual([]);
    // A dot in a route is a dot, not any character.
    expect(allowedMethods(ROUTES, '/docs/openapiXjson')).toEqual([]);
  });
});
