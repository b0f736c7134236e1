import { createRequire } from 'node:module';

import { Hono } from 'hono';

import type { ApiEnv } from '../deps.ts';
import { openApiDocument } from '../openapi/document.ts';
import { referencePage } from '../openapi/reference-page.ts';

const { version } = createRequire(import.meta.url)('../../package.json') as { version: string };

/** Paths of the description and its reference page; public (see auth.ts). */
export const OPENAPI_PATH = '/api/v1/openapi.json';
export const REFERENCE_PATH = '/api/v1/docs';

/** The API's own description, built once from the zod schemas, and its readable page. */
export function docsRoutes(): Hono<ApiEnv> {
  const routes = new Hono<ApiEnv>();
  const document = openApiDocument(version);
  const page = referencePage(document);

  routes.get(OPENAPI_PATH, function openApiDescription(c) {
    return c.json(document);
  });

  routes.get(REFERENCE_PATH, function apiReference(c) {
    return c.html(page);
  });

  return routes;
}
