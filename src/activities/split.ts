import { sql } from 'kysely';
import { z } from 'zod';
import { extraColumns, type WorkingTable } from '../engine/working-tables.ts';
import { Scope, type FieldRef } from '../rules/scope.ts';
import type { WorkspaceSchema } from '../schema/types.ts';
import {
  carriedColumns,
  fieldIssues,
  label,
  limitShape,
  passThrough,
  ruleIssues,
  ruleShape,
  sortShape,
} from './checks.ts';
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
    const carried = carriedColumns(population);
    const seen = new Set<string>();
    config.segments.forEach((segment, i) => {
      if (seen.has(segment.label) || (config.complement && segment.label === 'complement')) {
        issues.push({
          path: `${ctx.path}.segments[${i}].label`,
          message: `segment label "${segment.label}" is used twice`,
        });
      }
      seen.add(segment.label);
      issues.push(...ruleIssues(ctx, table, segment.filter, `segments[${i}].filter`, { carried }));
      segment.sort.forEach((s, j) =>
        issues.push(...fieldIssues(ctx, table, s.field, `segments[${i}].sort[${j}].field`, { carried })),
      );
    });
    return { population, issues };
  },
  async execute(config, ctx) {
    const input = ctx.inputs[0]!;
    const dimension = input.dimension;
    const taken: WorkingTable[] = [];
    // Keys, then the columns enrichment added, which segments carry on (`w` is the input's alias).
    const keysOf = (alias: string) =>
      sql.join([...dimension.primaryKey.map((k) => sql.ref(`${alias}.${k}`)), ...extraColumns(input, 'w')]);
    const carried = { columns: input.columns };
    const notIn = (alias: string, table: WorkingTable) =>
      sql`NOT EXISTS (SELECT 1 FROM ${ctx.ref(table)} AS s WHERE ${sql.join(
        dimension.primaryKey.map((k) => sql`${sql.ref(`s.${k}`)} = ${sql.ref(`${alias}.${k}`)}`),
        sql` AND `,
      )})`;
    for (const segment of config.segments) {
      const { scope, where } = ctx.rule(dimension, segment.filter ?? { and: [] }, input);
      const free = config.overlap ? [] : taken.map((t) => notIn(scope.alias, t));
      const condition = sql.join([where, ...free], sql` AND `);
      // Without a sort, the rows kept under a limit are the first by key: a run can be repeated exactly.
      const order = sql.join([
        ...segment.sort.map(
          (s) =>
            sql`${scope.column(fieldRef(ctx.schema, input, s.field))} ${sql.raw(s.order === 'desc' ? 'DESC' : 'ASC')}`,
        ),
        ...dimension.primaryKey.map((k) => sql`${sql.ref(`${scope.alias}.${k}`)} ASC`),
      ]);
      let limit: number | undefined;
      if (segment.limit && 'count' in segment.limit) limit = segment.limit.count;
      else if (segment.limit) {
        // On the run's own connection: a run already executes off the server's event loop.
        const counted = await sql<{
          n: unknown;
        }>`SELECT count(*) AS n FROM ${scope.from()} WHERE ${condition}`.execute(ctx.database.db);
        // A percentage of the rows the segment's filter finds, rounded to the nearest row (halves up).
        limit = Math.floor((Number(counted.rows[0]?.n ?? 0) * segment.limit.percent) / 100 + 0.5);
      }
      const select = sql`SELECT ${keysOf(scope.alias)} FROM ${scope.from()} WHERE ${condition} ORDER BY ${order}${
        limit === undefined ? sql`` : sql` LIMIT ${sql.lit(limit)}`
      }`;
      taken.push(
        await ctx.output(segment.label, dimension, select, {
          ...carried,
          activate: (count) => count > 0 || !segment.skipEmpty,
        }),
      );
    }
    if (config.complement) {
      const rest = sql.join(
        taken.map((t) => notIn('w', t)),
        sql` AND `,
      );
      await ctx.output(
        'complement',
        dimension,
        sql`SELECT ${keysOf('w')} FROM ${ctx.ref(input)} AS w${taken.length ? sql` WHERE ${rest}` : sql``}`,
        carried,
      );
    }
  },
});

function fieldRef(schema: WorkspaceSchema, rows: WorkingTable, path: string): FieldRef {
  const ref = new Scope(schema, rows.dimension, rows.columns).field(path.split('.'));
  if (typeof ref === 'string') throw new Error(ref);
  return ref;
}
