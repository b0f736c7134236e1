import { z } from 'zod';

import { migrationEventSchema, migrationRequestSchema, policySchema } from '@aso/shared';

import { idempotencyKeySchema, idSchema, listQuerySchema } from '../request-schemas.ts';
import {
  acceptedMigrationSchema,
  adminSessionSchema,
  dryRunSchema,
  healthSchema,
  kpisSchema,
  migrationListSchema,
  migrationPlanSchema,
  migrationRecordSchema,
  problemSchema,
  readinessSchema,
} from './record-schemas.ts';
import { policyDetailsSchema, policyListSchema, storedPolicySchema } from './policy-schemas.ts';
import type { JsonSchema } from './types.ts';

const COMPONENT_PREFIX = '#/components/schemas/';

/** Response shapes by component name; the output side of each zod schema. */
const RESPONSE_SCHEMAS: Record<Exclude<ComponentName, RequestComponent>, z.ZodType> = {
  MigrationRecord: migrationRecordSchema,
  AcceptedMigration: acceptedMigrationSchema,
  MigrationList: migrationListSchema,
  MigrationPlan: migrationPlanSchema,
  MigrationEvent: migrationEventSchema,
  DryRun: dryRunSchema,
  Kpis: kpisSchema,
  Health: healthSchema,
  Readiness: readinessSchema,
  Problem: problemSchema,
  AdminSession: adminSessionSchema,
  Policy: storedPolicySchema,
  PolicyDetails: policyDetailsSchema,
  PolicyList: policyListSchema,
};

/** Request bodies: described as a client may send them. */
type RequestComponent = 'MigrationRequest' | 'PolicyRequest';

export type ComponentName =
  | 'MigrationRecord'
  | 'AcceptedMigration'
  | 'MigrationList'
  | 'MigrationPlan'
  | 'MigrationEvent'
  | 'DryRun'
  | 'Kpis'
  | 'Health'
  | 'Readiness'
  | 'Problem'
  | 'AdminSession'
  | 'Policy'
  | 'PolicyDetails'
  | 'PolicyList'
  | RequestComponent;

export function componentRef(name: ComponentName): JsonSchema {
  return { $ref: `${COMPONENT_PREFIX}${name}` };
}

/**
 * JSON Schema 2020-12 (the dialect of OpenAPI 3.1) of every component. Responses
 * are described as the server writes them (defaults filled in, unknown fields
 * absent), the request body as a client may send it (defaults optional).
 */
export function componentSchemas(): Record<string, JsonSchema> {
  const registry = z.registry<{ id: string }>();
  for (const [id, schema] of Object.entries(RESPONSE_SCHEMAS)) registry.add(schema, { id });

  const generated = z.toJSONSchema(registry, {
    io: 'output',
    uri: (id) => `${COMPONENT_PREFIX}${id}`,
  }).schemas;

  const schemas: Record<string, JsonSchema> = {};
  for (const [id, schema] of Object.entries(generated)) schemas[id] = bare(schema);
  schemas['MigrationRequest'] = inputSchema(migrationRequestSchema);
  schemas['PolicyRequest'] = inputSchema(policySchema);
  return schemas;
}

/** The schema of a request part (body, parameter, header) as a client sends it. */
export function inputSchema(schema: z.ZodType): JsonSchema {
  return bare(z.toJSONSchema(schema, { io: 'input' }));
}

export const parameterSchemas = {
  migrationId: () => inputSchema(idSchema),
  limit: () => inputSchema(listQuerySchema.shape.limit),
  idempotencyKey: () => inputSchema(idempotencyKeySchema),
  policyName: () => inputSchema(policySchema.shape.name),
};

/** An embedded schema carries neither its own dialect nor an id: the document sets both. */
function bare(schema: object): JsonSchema {
  const { $schema: _dialect, $id: _id, ...rest } = schema as JsonSchema;
  return rest;
}
