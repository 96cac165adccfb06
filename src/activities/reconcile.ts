import { z } from 'zod';
import { fieldIssues, onDimension, ruleIssues, ruleShape } from './checks.ts';
import { COMPLEMENT, defineActivity, MAIN } from './types.ts';

/** Rows of a loaded file matched to a dimension, by column pairs or by a rule. */
export const reconcile = defineActivity({
  type: 'reconcile',
  label: 'Reconciliation',
  category: 'targeting',
  description: 'matches the rows of a loaded file to rows of a dimension',
  inputs: 'one',
  config: z
    .strictObject({
      dimension: z.string().min(1),
      /** File column → dimension field pairs that must all be equal. */
      on: z
        .array(z.strictObject({ column: z.string().min(1), field: z.string().min(1) }))
        .min(1)
        .optional(),
      /** Or a rule over the dimension whose values may refer to the file's columns as { param: column }. */
      rule: ruleShape.optional(),
      /** Keep the rows that match nothing, on a complement output (otherwise they are dropped). */
      keepUnreconciled: z.boolean().default(false),
    })
    .refine((c) => (c.on === undefined) !== (c.rule === undefined), {
      message: 'reconcile on column pairs (on) or by a rule, one of the two',
      path: ['on'],
    }),
  outputs: (config) => (config.keepUnreconciled ? [MAIN, COMPLEMENT] : [MAIN]),
  check: (config, ctx) => ({
    ...onDimension(ctx, config.dimension, (table) => {
      const issues = (config.on ?? []).flatMap((pair, i) =>
        fieldIssues(ctx, table, pair.field, `on[${i}].field`),
      );
      if (ctx.inputs[0]?.kind === 'dimension') {
        issues.push({
          path: ctx.path,
          message: 'reconcile takes the rows of a loaded file (load-file); this input is already a dimension',
        });
      }
      // A rule's parameters stand for the file's columns ({ param: email }); they are bound row by row.
      issues.push(...ruleIssues(ctx, table, config.rule, 'rule'));
      return issues;
    }),
    // The file's rows that match nothing stay rows of the file.
    ports: { complement: { kind: 'file' } },
  }),
});
