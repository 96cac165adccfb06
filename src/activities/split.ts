import { z } from 'zod';
import { fieldIssues, label, limitShape, passThrough, ruleIssues, ruleShape, sortShape } from './checks.ts';
import { COMPLEMENT, defineActivity, type PortDef } from './types.ts';

/**
 * Ordered segments of the population, each with a filter, a limit (count or percent) and the sort that
 * chooses who is kept under it; a row goes to the first segment it fits unless overlap is allowed.
 */
export const split = defineActivity({
  type: 'split',
  label: 'Split',
  category: 'targeting',
  description: 'divides the population into ordered segments',
  inputs: 'one',
  config: z.strictObject({
    segments: z
      .array(
        z.strictObject({
          label,
          filter: ruleShape.optional(),
          limit: limitShape.optional(),
          sort: z.array(sortShape).default([]),
          /** Do not activate this segment's transition when it is empty. */
          skipEmpty: z.boolean().default(false),
        }),
      )
      .min(1),
    complement: z.boolean().default(false),
    /** A row may belong to several segments (otherwise the first that takes it keeps it). */
    overlap: z.boolean().default(false),
    /** All segments in one working table with a segment column, instead of one per segment. */
    sameTable: z.boolean().default(false),
  }),
  outputs: (config) => [
    ...config.segments.map((s): PortDef => ({ name: s.label, label: s.label })),
    ...(config.complement ? [COMPLEMENT] : []),
  ],
  check(config, ctx) {
    const { population, issues } = passThrough(ctx, 'split');
    const table = population.kind === 'dimension' ? population.table : undefined;
    const seen = new Set<string>();
    config.segments.forEach((segment, i) => {
      if (seen.has(segment.label) || (config.complement && segment.label === 'complement')) {
        issues.push({
          path: `${ctx.path}.segments[${i}].label`,
          message: `segment label "${segment.label}" is used twice`,
        });
      }
      seen.add(segment.label);
      issues.push(...ruleIssues(ctx, table, segment.filter, `segments[${i}].filter`));
      segment.sort.forEach((s, j) =>
        issues.push(...fieldIssues(ctx, table, s.field, `segments[${i}].sort[${j}].field`)),
      );
    });
    return { population, issues };
  },
});
