import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import { expect } from 'vitest';

import { openApiDocument } from '../../services/api/src/openapi/document.ts';
import type { HttpMethod, OpenApiDocument } from '../../services/api/src/openapi/types.ts';

/** An answer of the API as a test saw it. */
export interface ObservedResponse {
  method: string;
  /** The request path, query included or not. */
  path: string;
  status: number;
  contentType: string | null;
  body: unknown;
}

const DOCUMENT_ID = 'aso-openapi';

let checker: ContractChecker | undefined;

/**
 * Fails the test when an answer is not what the OpenAPI description promises: the
 * route, the status and the media type must be described, and the body must
 * validate against the schema described for them.
 */
export function expectDescribedResponse(
  observed: ObservedResponse,
  options: { unknownRoutes: 'fail' | 'ignore' } = { unknownRoutes: 'fail' },
): void {
  checker ??= new ContractChecker(openApiDocument('test'));
  if (options.unknownRoutes === 'ignore' && !checker.describes(observed.method, observed.path)) {
    return;
  }

  const problem = checker.check(observed);
  expect(problem, describe(observed)).toBeUndefined();
}

type RequestFunction = (
  input: string | URL | Request,
  init?: RequestInit,
  ...rest: never[]
) => Response | Promise<Response>;

/**
 * Makes `app.request` check every answer of a described route against the
 * description, so in-process tests prove the contract as they go. Routes and
 * methods the description does not name (which tests probe on purpose) are left alone.
 */
export function checkingAnswers<App extends { request: RequestFunction }>(app: App): App {
  const send = app.request.bind(app);

  app.request = async function checkedRequest(input, init, ...rest) {
    const response = await send(input, init, ...rest);
    const url = new URL(input instanceof Request ? input.url : String(input), 'http://localhost');
    const method = init?.method ?? (input instanceof Request ? input.method : 'GET');
    const contentType = response.headers.get('content-type');
    const text = await response.clone().text();
    const body =
      /json/.test(contentType ?? '') && text !== '' ? (JSON.parse(text) as unknown) : text;

    const observed = { method, path: url.pathname, status: response.status, contentType, body };
    expectDescribedResponse(observed, { unknownRoutes: 'ignore' });
    return response;
  };
  return app;
}

class ContractChecker {
  private readonly document: OpenApiDocument;
  private readonly ajv: Ajv2020;
  private readonly routes: { template: string; pattern: RegExp }[];
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(document: OpenApiDocument) {
    this.document = document;
    // The description holds OpenAPI keywords around the schemas; formats are checked
    // by the patterns zod writes beside them.
    this.ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: false });
    this.ajv.addSchema(document, DOCUMENT_ID);
    this.routes = Object.keys(document.paths).map((template) => ({
      template,
      pattern: new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`),
    }));
  }

  /** Whether the description names this method on this path. */
  describes(method: string, path: string): boolean {
    const bare = path.split('?')[0] ?? '';
    const template = this.routes.find((route) => route.pattern.test(bare))?.template;
    if (template === undefined) return false;
    return this.document.paths[template]?.[method.toLowerCase() as HttpMethod] !== undefined;
  }

  /** What is wrong with the answer, or undefined when it matches the description. */
  check(observed: ObservedResponse): string | undefined {
    const path = observed.path.split('?')[0] ?? '';
    const template = this.routes.find((route) => route.pattern.test(path))?.template;
    if (template === undefined) return `no route of the description matches ${path}`;

    const method = observed.method.toLowerCase() as HttpMethod;
    const operation = this.document.paths[template]?.[method];
    if (operation === undefined) return `${method} ${template} is not described`;

    const status = String(observed.status);
    const response = operation.responses[status];
    if (response === undefined) return `status ${status} of ${method} ${template} is not described`;

    const mediaType = (observed.contentType ?? '').split(';')[0]?.trim() ?? '';
    if (response.content === undefined) {
      return observed.body === undefined || observed.body === null || observed.body === ''
        ? undefined
        : `${status} of ${method} ${template} is described without a body`;
    }
    if (response.content[mediaType] === undefined) {
      return `${status} of ${method} ${template} is not described as ${mediaType}`;
    }

    const validate = this.validator(template, method, status, mediaType);
    if (validate(observed.body)) return undefined;
    return this.ajv.errorsText(validate.errors, { separator: '\n' });
  }

  private validator(
    template: string,
    method: string,
    status: string,
    mediaType: string,
  ): ValidateFunction {
    const pointer = ['paths', template, method, 'responses', status, 'content', mediaType, 'schema']
      .map((part) => part.replaceAll('~', '~0').replaceAll('/', '~1'))
      .join('/');
    const ref = `${DOCUMENT_ID}#/${pointer}`;

    let validate = this.validators.get(ref);
    if (validate === undefined) {
      validate = this.ajv.compile({ $ref: ref });
      this.validators.set(ref, validate);
    }
    return validate;
  }
}

function describe(observed: ObservedResponse): string {
  const body = typeof observed.body === 'string' ? observed.body : JSON.stringify(observed.body);
  return (
    `${observed.method} ${observed.path} answered ${observed.status} ` +
    `(${observed.contentType ?? 'no content type'}) against the OpenAPI description: ` +
    body.slice(0, 2000)
  );
}
