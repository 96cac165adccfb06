import { z } from 'zod';
import { ValidationError } from '../errors.ts';

/** Checks request input against a zod schema; failures name each path (`query.limit`). */
export function parseInput<T extends z.ZodType>(schema: T, value: unknown, where: string): z.infer<T> {
  const result = schema.safeParse(value ?? {});
  if (result.success) return result.data;
  throw new ValidationError(
    `The request ${where}`,
    result.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message })),
  );
}

/** Query-string flags: `?dryRun`, `?dryRun=true|1|yes`, `?dryRun=false|0|no`. */
export const queryFlag = z
  .union([z.literal(''), z.enum(['true', 'false', '1', '0', 'yes', 'no'])])
  .optional()
  .transform((v) => v === '' || v === 'true' || v === '1' || v === 'yes');

export const queryInt = (min: number, max: number) => z.coerce.number().int().min(min).max(max);

/** `?limit=&offset=`: a page of rows (50 by default, at most `max`). */
export const pageQuery = (max: number) =>
  z.object({
    limit: queryInt(1, max).default(50),
    offset: queryInt(0, Number.MAX_SAFE_INTEGER).default(0),
  });
