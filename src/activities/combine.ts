import { sql, type RawBuilder } from 'kysely';
import { z } from 'zod';
import type { WorkingTable } from '../engine/working-tables.ts';
import type { ColumnType } from '../schema/types.ts';
import { columnSql, populationColumn, sharedDimension } from './checks.ts';
import { COMPLEMENT, defineActivity, MAIN, type ExecuteContext } from './types.ts';

/**
 * Union, intersection or exclusion of populations of one dimension. Rows are the same when their keys are
 * equal, or, with `reconcileOn: { columns }`, when the listed columns are all equal (an empty value equals
 * nothing). The result is always keyed by the dimension: with columns, a union keeps a row only if no
 * earlier input has its key or a row with the same columns (so the earliest input's row is kept);
 * an intersection keeps the rows of the first input whose columns every other input has; an exclusion
 * keeps the rows of the primary input whose columns no other input has.
 */
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
    if (config.reconcileOn !== 'keys' && table) {
      config.reconcileOn.columns.forEach((column, k) => {
        const path = `${ctx.path}.reconcileOn.columns[${k}]`;
        const types = new Set<ColumnType>();
        ctx.inputs.forEach((input, i) => {
          const found = populationColumn(ctx.schema, input, column);
          if (found && 'error' in found)
            issues.push({ path, message: `${ctx.inputRefs[i]}: ${found.error}` });
          else if (found) types.add(found.type);
        });
        // Integers and decimals compare as numbers; any other mix cannot be equal.
        const kinds = new Set([...types].map((type) => (type === 'integer' ? 'decimal' : type)));
        if (kinds.size > 1)
          issues.push({
            path,
            message: `${column} has a different type in each input (${[...types].join(', ')})`,
          });
      });
    }
    return { population: table ? { kind: 'dimension', table } : { kind: 'unknown' }, issues };
  },
  async execute(config, ctx) {
    const dimension = ctx.inputs[0]!.dimension;
    const keys = sql.join(dimension.primaryKey.map((k) => sql.id(k)));
    const selectOf = (table: WorkingTable) => sql`SELECT ${keys} FROM ${ctx.ref(table)}`;
    const primaryIndex = config.primary ? Math.max(0, ctx.inputRefs.indexOf(config.primary)) : 0;
    const ordered =
      config.mode === 'exclusion'
        ? [ctx.inputs[primaryIndex]!, ...ctx.inputs.filter((_, i) => i !== primaryIndex)]
        : ctx.inputs;
    let result: WorkingTable;
    if (config.reconcileOn === 'keys') {
      // Chains of one set operator read left to right on both databases: (a − b) − c, a ∩ b ∩ c, a ∪ b ∪ c.
      const operator = sql.raw(
        config.mode === 'union' ? ' UNION ' : config.mode === 'intersection' ? ' INTERSECT ' : ' EXCEPT ',
      );
      result = await ctx.output('', dimension, sql.join(ordered.map(selectOf), operator));
    } else {
      result = await ctx.output(
        '',
        dimension,
        byColumns(ctx, config.mode, ordered, config.reconcileOn.columns),
      );
    }
    if (config.complement) {
      const all = sql.join(ctx.inputs.map(selectOf), sql` UNION `);
      await ctx.output('complement', dimension, sql`${all} EXCEPT ${selectOf(result)}`);
    }
  },
});

/** The keys of the result when rows are the same by `columns` (inputs in order, the primary first). */
function byColumns(
  ctx: ExecuteContext,
  mode: 'union' | 'intersection' | 'exclusion',
  inputs: WorkingTable[],
  columns: string[],
): RawBuilder<unknown> {
  const dimension = inputs[0]!.dimension;
  const tuples = inputs.map((table) => {
    const { scope } = ctx.rule(dimension, { and: [] }, table);
    const values = columns.map((c) => columnSql(scope, table, c).sql);
    const notNull = sql.join(
      values.map((v) => sql`${v} IS NOT NULL`),
      sql` AND `,
    );
    return { table, scope, values, notNull };
  });
  // Whether the row's columns are those of a row of `other`: never NULL (an empty value matches nothing,
  // and the set holds no empty values), so NOT of it is exact. Row values IN an uncorrelated subquery are
  // computed once as a set on both databases.
  const inSet = (row: (typeof tuples)[number], other: (typeof tuples)[number]) =>
    sql`(${row.notNull} AND (${sql.join(row.values)}) IN (SELECT ${sql.join(other.values)} FROM ${other.scope.from()} WHERE ${other.notNull}))`;
  const keyIn = (row: (typeof tuples)[number], other: WorkingTable) =>
    sql`EXISTS (SELECT 1 FROM ${ctx.ref(other)} AS e WHERE ${sql.join(
      dimension.primaryKey.map((k) => sql`${sql.ref(`e.${k}`)} = ${sql.ref(`${row.scope.alias}.${k}`)}`),
      sql` AND `,
    )})`;
  const select = (row: (typeof tuples)[number], conditions: RawBuilder<unknown>[]) =>
    sql`SELECT ${sql.join(dimension.primaryKey.map((k) => sql.ref(`${row.scope.alias}.${k}`)))} FROM ${row.scope.from()}${
      conditions.length ? sql` WHERE ${sql.join(conditions, sql` AND `)}` : sql``
    }`;
  const [first, ...others] = tuples;
  switch (mode) {
    case 'union':
      // Each row once, from the earliest input holding its key or its columns: the parts never overlap.
      return sql.join(
        tuples.map((row, i) =>
          select(
            row,
            tuples
              .slice(0, i)
              .flatMap((earlier) => [sql`NOT ${keyIn(row, earlier.table)}`, sql`NOT ${inSet(row, earlier)}`]),
          ),
        ),
        sql` UNION ALL `,
      );
    case 'intersection':
      return select(
        first!,
        others.map((other) => inSet(first!, other)),
      );
    case 'exclusion':
      return select(
        first!,
        others.map((other) => sql`NOT ${inSet(first!, other)}`),
      );
  }
}
