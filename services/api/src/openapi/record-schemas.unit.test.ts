import { describe, expect, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';

import { newMigrationRecord, type MigrationPlan, type MigrationRecord } from '@aso/shared';

import { migrationPlanSchema, migrationRecordSchema } from './record-schemas.ts';
import { SAMPLE_REQUEST } from '../../../../test/support/sample-request.ts';

describe('the response schemas of the OpenAPI description', () => {
  it('admit every record and plan the types allow (checked by tsc)', () => {
    expectTypeOf<MigrationRecord>().toExtend<z.output<typeof migrationRecordSchema>>();
    expectTypeOf<MigrationPlan>().toExtend<z.output<typeof migrationPlanSchema>>();
  });

  it('accept a new record as the gateway stores it', () => {
    const record = newMigrationRecord(
      '3f1c9a52-8d0e-4c57-9a41-6f2b7d9e0c11',
      SAMPLE_REQUEST,
      new Date('2026-01-01T00:00:00Z'),
    );

    expect(migrationRecordSchema.safeParse(record).success).toBe(true);
  });

  it('refuse a record with a field the description does not know', () => {
    const record = {
      ...newMigrationRecord(
        '3f1c9a52-8d0e-4c57-9a41-6f2b7d9e0c11',
        {
          pod_name: 'a',
          pod_namespace: 'default',
          source_node: 'b',
          target_node: 'c',
          preserve_pv: false,
          dry_run: false,
          force: false,
          timeout: 600,
        },
        new Date(),
      ),
      surprise: 1,
    };

    expect(migrationRecordSchema.strict().safeParse(record).success).toBe(false);
  });
});
