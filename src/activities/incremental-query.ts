import { z } from 'zod';
import { findTable } from '../schema/types.ts';
import { fieldIssues, ruleIssues, ruleShape } from './checks.ts';
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
  check(config, ctx) {
    const table = findTable(ctx.schema, config.dimension);
    if (!table) {
      return {
        population: { kind: 'unknown' },
        issues: [{ path: `${ctx.path}.dimension`, message: `no table ${config.dimension} in the workspace` }],
      };
    }
    return {
      population: { kind: 'dimension', table },
      issues: [
        ...ruleIssues(ctx, table, config.rule, 'rule'),
        ...fieldIssues(ctx, table, config.since, 'since', ['datetime', 'date']),
      ],
    };
  },
});
