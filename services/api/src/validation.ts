import type { z } from 'zod';

import { ValidationError, type FieldError } from '@aso/shared';

/** Validates input with a schema; every problem is reported, each under its field. */
export function validate<S extends z.ZodType>(
  schema: S,
  input: unknown,
  what: string,
): z.output<S> {
  const parsed = schema.safeParse(input);
  if (parsed.success) return parsed.data;

  const fields: FieldError[] = parsed.error.issues.map((issue) => ({
    field: issue.path.length > 0 ? issue.path.join('.') : what,
    message: issue.message,
  }));
  throw new ValidationError(
    `the ${what} is invalid: ${fields.map((f) => f.message).join('; ')}`,
    fields,
  );
}
