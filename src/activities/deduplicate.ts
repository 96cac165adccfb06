import { z } from 'zod';
import { expressionIssues, fieldIssues, passThrough } from './checks.ts';
import { COMPLEMENT, defineActivity, MAIN } from './types.ts';

/** Keeps n rows per group of equal values (one email, one household…), chosen by a method. */
export const deduplicate = defineActivity({
  type: 'deduplicate',
  label: 'Deduplication',
  category: 'targeting',
  description: 'keeps a given number of rows per group of duplicates',
  inputs: 'one',
  config: z
    .strictObject({
      /** The fields that make rows duplicates, in priority order. */
      fields: z.array(z.string().min(1)).min(1),
      /** Rows kept per group (0 keeps them all: only the complement changes). */
      keep: z.number().int().min(0).default(1),
      method: z.enum(['random', 'expression', 'non-empty', 'values']).default('random'),
      /** method expression: the rows with the smallest (min) or largest (max) value are kept. */
      expression: z.string().min(1).optional(),
      order: z.enum(['min', 'max']).default('min'),
      /** method non-empty or values: the field examined. */
      field: z.string().min(1).optional(),
      /** method values: preferred values, best first. */
      values: z
        .array(z.union([z.string(), z.number(), z.boolean()]))
        .min(1)
        .optional(),
      complement: z.boolean().default(false),
    })
    .refine((c) => c.method !== 'expression' || c.expression !== undefined, {
      message: 'method expression needs an expression',
      path: ['expression'],
    })
    .refine((c) => !['non-empty', 'values'].includes(c.method) || c.field !== undefined, {
      message: 'this method needs the field it examines',
      path: ['field'],
    })
    .refine((c) => c.method !== 'values' || c.values !== undefined, {
      message: 'method values needs the preferred values',
      path: ['values'],
    }),
  outputs: (config) => (config.complement ? [MAIN, COMPLEMENT] : [MAIN]),
  check(config, ctx) {
    const { population, issues } = passThrough(ctx, 'deduplicate');
    const table = population.kind === 'dimension' ? population.table : undefined;
    config.fields.forEach((f, i) => issues.push(...fieldIssues(ctx, table, f, `fields[${i}]`)));
    if (config.expression) issues.push(...expressionIssues(ctx, table, config.expression, 'expression'));
    if (config.field) issues.push(...fieldIssues(ctx, table, config.field, 'field'));
    return { population, issues };
  },
});
