import { sql } from 'kysely';
import { z } from 'zod';
import { findTable } from '../schema/types.ts';
import { onDimension, ruleIssues, ruleShape } from './checks.ts';
import { defineActivity, MAIN } from './types.ts';

/** Rows of a dimension that a rule selects: the usual start of a campaign. */
export const buildAudience = defineActivity({
  type: 'build-audience',
  label: 'Build audience',
  category: 'targeting',
  description: 'selects the rows of a dimension that match a rule',
  inputs: 'optional',
  config: z.strictObject({
    dimension: z.string().min(1),
    rule: ruleShape.default({ and: [] }),
    /** Activate the outbound transition even when nobody matches (the default, as the reference does). */
    fireWhenEmpty: z.boolean().default(true),
  }),
  outputs: () => [MAIN],
  check: (config, ctx) =>
    onDimension(ctx, config.dimension, (table) => ruleIssues(ctx, table, config.rule, 'rule')),
  async execute(config, ctx) {
    const table = findTable(ctx.schema, config.dimension)!;
    const { scope, where } = ctx.rule(table, config.rule);
    const keys = sql.join(table.primaryKey.map((k) => sql.ref(`${scope.alias}.${k}`)));
    await ctx.output('', table, sql`SELECT ${keys} FROM ${scope.from()} WHERE ${where}`, {
      activate: (count) => count > 0 || config.fireWhenEmpty,
    });
  },
});
