import { z } from 'zod';
import { parseLocal } from './zone-time.ts';

/**
 * A `signal` schedule: the campaign runs when `POST /api/campaigns/:id/trigger` (or another campaign's end
 * activity) says so. Its parameters are declared with a type so a trigger's values can be checked, and each
 * becomes a run variable of its name.
 */
export const PARAMETER_TYPES = ['string', 'integer', 'decimal', 'boolean', 'date', 'datetime'] as const;
export type ParameterType = (typeof PARAMETER_TYPES)[number];

const DATE_TIME_WITH_OFFSET = z.iso.datetime({ offset: true });

export function fitsType(type: ParameterType, value: unknown): boolean {
  switch (type) {
    case 'string':
      return typeof value === 'string';
    case 'integer':
      return Number.isSafeInteger(value);
    case 'decimal':
      return typeof value === 'number' && Number.isFinite(value);
    case 'boolean':
      return typeof value === 'boolean';
    case 'date':
      return typeof value === 'string' && parseLocal(value)?.dateOnly === true;
    case 'datetime':
      return DATE_TIME_WITH_OFFSET.safeParse(value).success;
  }
}

export const TYPE_EXAMPLES: Record<ParameterType, string> = {
  string: 'text',
  integer: 'a whole number',
  decimal: 'a number',
  boolean: 'true or false',
  date: 'a date "YYYY-MM-DD"',
  datetime: 'a date-time with an offset, such as "2026-12-01T09:00:00+01:00"',
};

/** A parameter a trigger may pass; it becomes a run variable of that name. */
const parameter = z
  .strictObject({
    name: z.string({ error: 'expected a parameter name' }).regex(/^[A-Za-z_][A-Za-z0-9_]{0,62}$/, {
      error: 'a parameter name is letters, digits and _, starting with a letter or _ (at most 63)',
    }),
    type: z.enum(PARAMETER_TYPES, { error: `expected a type: ${PARAMETER_TYPES.join(', ')}` }),
    required: z.boolean({ error: 'expected true or false' }).default(false),
    default: z.unknown().optional(),
    /** The value test runs use, as the scheduler's "test value". */
    testValue: z.unknown().optional(),
    description: z.string({ error: 'expected text' }).optional(),
  })
  .superRefine((p, ctx) => {
    // A type that is not one of ours is reported already; values can only be checked against a known one.
    if (!PARAMETER_TYPES.includes(p.type)) return;
    for (const key of ['default', 'testValue'] as const)
      if (p[key] !== undefined && !fitsType(p.type, p[key]))
        ctx.addIssue({
          code: 'custom',
          path: [key],
          message: `expected ${TYPE_EXAMPLES[p.type]} (${p.type})`,
        });
  })
  .superRefine((p, ctx) => {
    if (p.required && p.default !== undefined)
      ctx.addIssue({
        code: 'custom',
        path: ['required'],
        message: 'a parameter with a default is never missing: drop required or the default',
      });
  });

export const signal = z.strictObject({
  frequency: z.literal('signal'),
  parameters: z
    .array(parameter, { error: 'expected a list of parameters: [{ name, type }]' })
    .superRefine(
      (params, ctx) => {
        const seen = new Set<string>();
        (params as unknown[]).forEach((p, i) => {
          const name = (p as { name?: unknown } | null)?.name;
          if (typeof name !== 'string') return;
          if (seen.has(name))
            ctx.addIssue({
              code: 'custom',
              path: [i, 'name'],
              message: `parameter ${name} is declared twice`,
            });
          seen.add(name);
        });
      },
      // Names are compared even when a parameter has other problems, so all are reported at once.
      { when: () => true },
    )
    .default([]),
});

export type SignalParameter = z.output<typeof parameter>;
