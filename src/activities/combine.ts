import { sql } from 'kysely';
import { z } from 'zod';
import type { WorkingTable } from '../engine/working-tables.ts';
import { sharedDimension } from './checks.ts';
import { COMPLEMENT, defineActivity, MAIN } from './types.ts';

/** Union, intersection or exclusion of populations of one dimension. */
export const combine = defineActivity({
  type: 'combine',
  label: 'Combine',
  category: 'targeting',
  description: 'unites, intersects or excludes populations of one dimension',
  inputs: 'many',
  config: z.strictObject({
    mode: z.enum(['union', 'intersection', 'exclusion']),
    /** For exclusion: the input the others are taken out of (the first input by default). */
    primary: z.string().min(1).optional(),
    /** Rows are the same when their keys are equal (default), or when the listed columns are. */
    reconcileOn: z
      .union([z.literal('keys'), z.strictObject({ columns: z.array(z.string().min(1)).min(1) })])
      .default('keys'),
    /** Also output what the result leaves out of the inputs (their union minus the result). */
    complement: z.boolean().default(false),
  }),
  outputs: (config) => (config.complement ? [MAIN, COMPLEMENT] : [MAIN]),
  check(config, ctx) {
    const { table, issues } = sharedDimension(ctx, 'combine');
    return { population: table ? { kind: 'dimension', table } : { kind: 'unknown' }, issues };
  },
  async execute(config, ctx) {
    if (config.reconcileOn !== 'keys')
      throw new Error('combine on chosen columns is not available yet; reconcile on keys');
    const dimension = ctx.inputs[0]!.dimension;
    const keys = sql.join(dimension.primaryKey.map((k) => sql.id(k)));
    const selectOf = (table: WorkingTable) => sql`SELECT ${keys} FROM ${ctx.ref(table)}`;
    const primaryIndex = config.primary ? Math.max(0, ctx.inputRefs.indexOf(config.primary)) : 0;
    const ordered =
      config.mode === 'exclusion'
        ? [ctx.inputs[primaryIndex]!, ...ctx.inputs.filter((_, i) => i !== primaryIndex)]
        : ctx.inputs;
    // Chains of one set operator read left to right on both databases: (a − b) − c, a ∩ b ∩ c, a ∪ b ∪ c.
    const operator = sql.raw(
      config.mode === 'union' ? ' UNION ' : config.mode === 'intersection' ? ' INTERSECT ' : ' EXCEPT ',
    );
    const result = await ctx.output('', dimension, sql.join(ordered.map(selectOf), operator));
    if (config.complement) {
      const all = sql.join(ctx.inputs.map(selectOf), sql` UNION `);
      await ctx.output('complement', dimension, sql`${all} EXCEPT ${selectOf(result)}`);
    }
  },
});
