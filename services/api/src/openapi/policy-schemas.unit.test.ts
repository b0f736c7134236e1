import { describe, expectTypeOf, it } from 'vitest';
import type { z } from 'zod';

import type { PolicyRun, PolicyStart, StoredPolicy } from '@aso/shared';

import { policyRunSchema, policyStartSchema, storedPolicySchema } from './policy-schemas.ts';

describe('the policy schemas of the OpenAPI description', () => {
  it('admit every policy, evaluation and start the store can hold (checked by tsc)', () => {
    expectTypeOf<StoredPolicy>().toExtend<z.output<typeof storedPolicySchema>>();
    expectTypeOf<PolicyRun>().toExtend<z.output<typeof policyRunSchema>>();
    expectTypeOf<PolicyStart>().toExtend<z.output<typeof policyStartSchema>>();
  });
});
