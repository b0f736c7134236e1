import { MIN_TIMEOUT_SECONDS, MAX_TIMEOUT_SECONDS } from '@aso/shared';

import { ADMIN_SESSION_COOKIE } from '../admin/session-cookie.ts';
import { MAX_REQUEST_BYTES } from '../routes/migrations.ts';
import { eventPaths } from './event-paths.ts';
import { batchPaths } from './batch-paths.ts';
import { policyPaths } from './policy-paths.ts';
import { componentRef, componentSchemas, parameterSchemas, type ComponentName } from './schemas.ts';
import type { OpenApiDocument, Operation, Parameter, ResponseObject } from './types.ts';

/** Problem codes by HTTP status: what a route may answer besides success. */
type Problems = Partial<Record<number, string[]>>;

const PREFLIGHT_REFUSALS = [
  'nothing-to-migrate',
  'target-node-not-found',
  'target-node-not-ready',
  'target-node-cordoned',
  'target-taint-not-tolerated',
  'insufficient-capacity',
  'volume-cannot-follow',
  'unsupported-controller',
];

/** Every route that needs a token may answer these. */
const ACCESS_PROBLEMS: Problems = {
  401: ['unauthenticated'],
  429: ['rate-limited'],
  500: ['internal-error'],
};

const READ_PROBLEMS: Problems = { ...ACCESS_PROBLEMS, 503: ['queue-unavailable'] };

const WRITE_PROBLEMS: Problems = { ...READ_PROBLEMS, 403: ['read-only-token'] };

const BEARER = [{ bearerAuth: [] }];

const json = (name: ComponentName, description: string): ResponseObject => ({
  description,
  content: { 'application/json': { schema: componentRef(name) } },
});

const migrationIdParameter = (): Parameter => ({
  name: 'id',
  in: 'path',
  required: true,
  description: 'the migration id (a UUID)',
  schema: parameterSchemas.migrationId(),
});

/** The OpenAPI 3.1 description of the whole HTTP API, generated from the zod schemas. */
export function openApiDocument(version: string): OpenApiDocument {
  return {
    openapi: '3.1.1',
    info: {
      title: 'AI Storage Orchestrator API',
      version,
      description:
        'Moves Kubernetes pods between nodes. Errors are RFC 9457 problem documents with a ' +
        'stable `code` and the `request_id` also sent as the X-Request-Id header.',
    },
    servers: [{ url: '/' }],
    tags: [
      { name: 'migrations', description: 'Start, read, list and cancel migrations' },
      { name: 'policies', description: 'Migrations triggered by measured load' },
      { name: 'batches', description: 'Batches of migrations and node drains' },
      { name: 'operations', description: 'Probes, KPIs and Prometheus metrics' },
      { name: 'admin', description: 'Operator UIs: Bull Board and this reference' },
    ],
    paths: {
      '/api/v1/migrations': { post: submitMigration(), get: listMigrations() },
      '/api/v1/migrations/{id}': { get: getMigration(), delete: cancelMigration() },
      ...eventPaths({
        problems,
        readProblems: READ_PROBLEMS,
        security: BEARER,
        migrationId: migrationIdParameter(),
        eventSchema: componentRef('MigrationEvent'),
      }),
      ...policyPaths({
        json,
        problems,
        requestBody: {
          required: true,
          content: { 'application/json': { schema: componentRef('PolicyRequest') } },
        },
        nameParameter: parameterSchemas.policyName(),
        readProblems: READ_PROBLEMS,
        writeProblems: WRITE_PROBLEMS,
        security: BEARER,
      }),
      ...batchPaths({
        problems,
        readProblems: READ_PROBLEMS,
        writeProblems: WRITE_PROBLEMS,
        security: BEARER,
      }),
      '/api/v1/metrics': { get: kpis() },
      '/health': { get: health() },
      '/ready': { get: ready() },
      '/metrics': { get: prometheus() },
      '/api/v1/openapi.json': { get: openApiJson() },
      '/api/v1/docs': { get: reference() },
      '/admin': { get: adminLogin() },
      '/admin/session': { post: openSession(), delete: closeSession() },
      '/admin/queues': { get: queueBoard() },
    },
    components: {
      schemas: componentSchemas(),
      securitySchemes: {
        bearerAuth: {
          type: 'http',
          scheme: 'bearer',
          description:
            'A token from ASO_API_TOKENS or ASO_API_TOKENS_FILE. Read-only tokens may GET; ' +
            'POST and DELETE need a read-write token.',
        },
        adminSession: {
          type: 'apiKey',
          in: 'cookie',
          name: ADMIN_SESSION_COOKIE,
          description:
            'Set by POST /admin/session; accepted by Bull Board under /admin/queues and by ' +
            'this description and its reference page only, so that a browser can open them. ' +
            'It holds a signature, never the token.',
        },
      },
    },
  };
}

function submitMigration(): Operation {
  return {
    operationId: 'submitMigration',
    summary: 'Start a migration, or plan one (dry_run)',
    description:
      'Validates the request and runs the pre-flight against the cluster. A migration that ' +
      'cannot succeed is refused before anything is stored. The body must be JSON of at most ' +
      `${MAX_REQUEST_BYTES} bytes; timeout is in seconds (${MIN_TIMEOUT_SECONDS} to ` +
      `${MAX_TIMEOUT_SECONDS}).`,
    tags: ['migrations'],
    security: BEARER,
    parameters: [
      {
        name: 'Idempotency-Key',
        in: 'header',
        required: false,
        description:
          'Repeating a key with the same body replays the first answer (202, ' +
          'Idempotent-Replayed: true); with another body it is refused (422 idempotency-key-reused).',
        schema: parameterSchemas.idempotencyKey(),
      },
    ],
    requestBody: {
      required: true,
      content: { 'application/json': { schema: componentRef('MigrationRequest') } },
    },
    responses: {
      200: json('DryRun', 'dry_run: the plan; nothing was created'),
      202: {
        ...json('AcceptedMigration', 'accepted: the record is stored and the capture job queued'),
        headers: {
          Location: { description: 'the migration', schema: { type: 'string' } },
          'Idempotent-Replayed': {
            description: 'true when this answers a repeated Idempotency-Key',
            schema: { type: 'string', const: 'true' },
          },
        },
      },
      ...problems({
        ...WRITE_PROBLEMS,
        400: ['invalid-request'],
        403: ['read-only-token', 'namespace-not-allowed'],
        404: ['pod-not-found'],
        409: [
          'pod-not-on-source-node',
          'pod-not-scheduled',
          'pod-terminating',
          'migration-in-progress',
        ],
        413: ['payload-too-large'],
        415: ['unsupported-media-type'],
        422: [...PREFLIGHT_REFUSALS, 'idempotency-key-reused'],
        502: ['kubernetes-request-rejected'],
        503: ['queue-unavailable', 'kubernetes-unavailable'],
      }),
    },
  };
}

function listMigrations(): Operation {
  return {
    operationId: 'listMigrations',
    summary: 'List migration records, newest first',
    tags: ['migrations'],
    security: BEARER,
    parameters: [
      {
        name: 'limit',
        in: 'query',
        required: false,
        description: 'how many records at most',
        schema: parameterSchemas.limit(),
      },
    ],
    responses: {
      200: json('MigrationList', 'the records'),
      ...problems({ ...READ_PROBLEMS, 400: ['invalid-request'] }),
    },
  };
}

function getMigration(): Operation {
  return {
    operationId: 'getMigration',
    summary: 'Read a migration record',
    tags: ['migrations'],
    security: BEARER,
    parameters: [migrationIdParameter()],
    responses: {
      200: json('MigrationRecord', 'the record'),
      ...problems({ ...READ_PROBLEMS, 400: ['invalid-request'], 404: ['migration-not-found'] }),
    },
  };
}

function cancelMigration(): Operation {
  return {
    operationId: 'cancelMigration',
    summary: 'Cancel a migration',
    description:
      'A migration no stage has begun ends at once (200). A running one is flagged (202): ' +
      'its stage rolls back and ends it cancelled. Once the switch has begun it cannot be ' +
      'cancelled (409 migration-switch-started).',
    tags: ['migrations'],
    security: BEARER,
    parameters: [migrationIdParameter()],
    responses: {
      200: json('MigrationRecord', 'cancelled'),
      202: json('MigrationRecord', 'cancel requested; the stage at work rolls back'),
      ...problems({
        ...WRITE_PROBLEMS,
        400: ['invalid-request'],
        404: ['migration-not-found'],
        409: ['migration-switch-started', 'migration-finished'],
      }),
    },
  };
}

function kpis(): Operation {
  return {
    operationId: 'migrationKpis',
    summary: 'KPIs: totals, success rate, durations, savings',
    tags: ['operations'],
    security: BEARER,
    responses: { 200: json('Kpis', 'the KPIs'), ...problems(READ_PROBLEMS) },
  };
}

function health(): Operation {
  return {
    operationId: 'health',
    summary: 'Liveness: the process answers',
    tags: ['operations'],
    security: [],
    responses: { 200: json('Health', 'alive') },
  };
}

function ready(): Operation {
  return {
    operationId: 'ready',
    summary: 'Readiness: Redis and the Kubernetes API answer',
    tags: ['operations'],
    security: [],
    responses: {
      200: json('Readiness', 'ready'),
      503: json('Readiness', 'a dependency fails; its check says why'),
    },
  };
}

function prometheus(): Operation {
  return {
    operationId: 'prometheusMetrics',
    summary: 'Prometheus metrics of the gateway',
    tags: ['operations'],
    security: BEARER,
    responses: {
      200: {
        description: 'the Prometheus text exposition format',
        content: { 'text/plain': { schema: { type: 'string' } } },
      },
      ...problems(ACCESS_PROBLEMS),
    },
  };
}

function openApiJson(): Operation {
  return {
    operationId: 'openApiDescription',
    summary: 'This description',
    description: 'Needs a token, like every route but the probes and the sign-in page.',
    tags: ['admin'],
    security: [...BEARER, { adminSession: [] }],
    responses: {
      200: { description: 'OpenAPI 3.1', content: { 'application/json': { schema: {} } } },
      ...problems(ACCESS_PROBLEMS),
    },
  };
}

function reference(): Operation {
  return {
    operationId: 'apiReference',
    summary: 'This description as a readable HTML page',
    description: 'A bearer token, or the session a browser opens at /admin.',
    tags: ['admin'],
    security: [...BEARER, { adminSession: [] }],
    responses: { 200: html('the reference, self-contained'), ...problems(ACCESS_PROBLEMS) },
  };
}

function adminLogin(): Operation {
  return {
    operationId: 'adminLogin',
    summary: 'Sign-in page for the operator UIs',
    description:
      'Public: a form that sends the token pasted into it to POST /admin/session in an ' +
      'Authorization header (never in a URL), then opens Bull Board.',
    tags: ['admin'],
    security: [],
    responses: { 200: html('the sign-in page') },
  };
}

function openSession(): Operation {
  return {
    operationId: 'openAdminSession',
    summary: 'Exchange the bearer token for a Bull Board session cookie',
    description:
      'Sets an HttpOnly, SameSite=Strict cookie, valid for an hour, that Bull Board and the ' +
      'API reference accept. ' +
      'It carries the token id, an expiry and an HMAC keyed by the token, not the token. ' +
      'A read-only token gets a session that may only read.',
    tags: ['admin'],
    security: BEARER,
    responses: {
      200: {
        ...json('AdminSession', 'the session is open'),
        headers: { 'Set-Cookie': { description: 'the session', schema: { type: 'string' } } },
      },
      ...problems(ACCESS_PROBLEMS),
    },
  };
}

function closeSession(): Operation {
  return {
    operationId: 'closeAdminSession',
    summary: 'Sign out: clear the session cookie',
    tags: ['admin'],
    security: [],
    responses: { 204: { description: 'the cookie is cleared' } },
  };
}

function queueBoard(): Operation {
  return {
    operationId: 'queueBoard',
    summary: 'Bull Board: the three stage queues and their jobs',
    description:
      'An HTML application; its own JSON API under /admin/queues/api is not part of this ' +
      'contract. Read-only tokens may look; its actions (retry, clean, remove, pause) are ' +
      'writes and are refused with 403 read-only-token.',
    tags: ['admin'],
    security: [...BEARER, { adminSession: [] }],
    responses: {
      200: html('the board'),
      ...problems({ ...ACCESS_PROBLEMS, 403: ['read-only-token', 'cross-site-request'] }),
    },
  };
}

function html(description: string): ResponseObject {
  return { description, content: { 'text/html': { schema: { type: 'string' } } } };
}

function problems(byStatus: Problems): Record<string, ResponseObject> {
  const responses: Record<string, ResponseObject> = {};
  for (const [status, codes = []] of Object.entries(byStatus)) {
    responses[status] = {
      description: `problem: ${codes.map((code) => `\`${code}\``).join(', ')}`,
      content: {
        'application/problem+json': {
          schema: {
            allOf: [componentRef('Problem')],
            properties: { code: { enum: codes }, status: { const: Number(status) } },
          },
        },
      },
    };
  }
  return responses;
}
