import { z } from 'zod';
import { fieldIssues, onDimension, ruleIssues, ruleShape } from './checks.ts';
import { defineActivity, MAIN } from './types.ts';

/** A rule's rows that earlier runs of the campaign have not returned yet, tracked by a date-time field. */
export const incrementalQuery = defineActivity({
  type: 'incremental-query',
  label: 'Incremental query',
  category: 'targeting',
  description: 'selects the rows of a rule that earlier runs have not returned, by a date-time field',
  inputs: 'optional',
  config: z.strictObject({
    dimension: z.string().min(1),
    rule: ruleShape.default({ and: [] }),
    /** The date-time field (a path, links allowed) whose high-water mark separates new rows from old. */
    since: z.string().min(1),
  }),
  outputs: () => [MAIN],
  check: (config, ctx) =>
    onDimension(ctx, config.dimension, (table) => [
      ...ruleIssues(ctx, table, config.rule, 'rule'),
      ...fieldIssues(ctx, table, config.since, 'since', ['datetime', 'date']),
    ]),
});
