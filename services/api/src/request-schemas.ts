import { z } from 'zod';

/** The largest page of the migration list. */
export const MAX_LIST_LIMIT = 500;

export const listQuerySchema = z.object({
  limit: z.coerce
    .number({ error: 'limit must be a number' })
    .int('limit must be a whole number')
    .min(1, 'limit must be at least 1')
    .max(MAX_LIST_LIMIT, `limit must be at most ${MAX_LIST_LIMIT}`)
    .default(50),
});

export const idSchema = z.uuid({ error: 'the migration id must be a UUID' });

/** Visible ASCII, as HTTP header values carry safely; long enough for any UUID or digest. */
export const idempotencyKeySchema = z
  .string()
  .regex(/^[\x21-\x7e]{1,255}$/, 'must be 1 to 255 visible ASCII characters');
