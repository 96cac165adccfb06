import { sql, type RawBuilder } from 'kysely';
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
import { COMPLEMENT, defineActivity, MAIN, type PortDef } from './types.ts';

const segmentShape = z.strictObject({
  label,
  filter: ruleShape.optional(),
  limit: limitShape.optional(),
  sort: z.array(sortShape).default([]),
  /** Do not activate this segment's transition when it is empty. */
  skipEmpty: z.boolean().default(false),
});

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
    segments: z.array(segmentShape).min(1),
    complement: z.boolean().default(false),
    /** A row may belong to several segments (otherwise the first that takes it keeps it). */
    overlap: z.boolean().default(false),
    /** All segments in one working table with a segment column, instead of one per segment. */
    sameTable: z.boolean().default(false),
  }),
  outputs: (config) =>
    config.sameTable
      ? [MAIN]
      : [
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
    if (config.sameTable && config.overlap)
      issues.push({
        path: `${ctx.path}.sameTable`,
        message:
          'segments that overlap cannot share one table (a row is in it once); turn one of the two off',
      });
    if (config.sameTable && carried?.some((c) => c.name === SEGMENT_COLUMN))
      issues.push({
        path: `${ctx.path}.sameTable`,
        message: `the rows already carry a column ${SEGMENT_COLUMN}; the segments cannot be labelled in it`,
      });
    // With sameTable, the rows carry their segment's label.
    return {
      population:
        config.sameTable && population.kind === 'dimension'
          ? { ...population, columns: [...(carried ?? []), { name: SEGMENT_COLUMN, type: 'string' }] }
          : population,
      issues,
    };
  },
  async execute(config, ctx) {
    const input = ctx.inputs[0]!;
    const dimension = input.dimension;
    const keyMatch = (outer: string, inner: string) =>
      sql.join(
        dimension.primaryKey.map((k) => sql`${sql.ref(`${inner}.${k}`)} = ${sql.ref(`${outer}.${k}`)}`),
        sql` AND `,
      );
    const notIn = (alias: string, table: RawBuilder<unknown>) =>
      sql`NOT EXISTS (SELECT 1 FROM ${table} AS s WHERE ${keyMatch(alias, 's')})`;
    // Keys, then the columns enrichment added, which segments carry on (`w` is the input's alias).
    const keysOf = (alias: string) => [
      ...dimension.primaryKey.map((k) => sql.ref(`${alias}.${k}`)),
      ...extraColumns(input, 'w'),
    ];
    /**
     * The SELECT of a segment's rows: its filter, none of the rows already taken (`taken`: the tables
     * holding them), its sort and its limit — a percentage of the rows the filter finds among those left.
     */
    const segmentRows = async (
      segment: Segment,
      taken: RawBuilder<unknown>[],
      extra: RawBuilder<unknown>[],
    ) => {
      const { scope, where } = ctx.rule(dimension, segment.filter ?? { and: [] }, input);
      const condition = sql.join([where, ...taken.map((t) => notIn(scope.alias, t))], sql` AND `);
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
      return sql`SELECT ${sql.join([...keysOf(scope.alias), ...extra])} FROM ${scope.from()} WHERE ${condition} ORDER BY ${order}${
        limit === undefined ? sql`` : sql` LIMIT ${sql.lit(limit)}`
      }`;
    };
    const rest = (taken: RawBuilder<unknown>[]) =>
      sql`SELECT ${sql.join(keysOf('w'))} FROM ${ctx.ref(input)} AS w${
        taken.length
          ? sql` WHERE ${sql.join(
              taken.map((t) => notIn('w', t)),
              sql` AND `,
            )}`
          : sql``
      }`;

    if (config.sameTable) {
      // One table: each segment inserts the rows no earlier one took, labelled in the segment column.
      await ctx.output(
        '',
        dimension,
        async (table, columns) => {
          const names = sql.join(columns.map((c) => sql.id(c.name)));
          let count = 0;
          const labels = [
            ...config.segments.map((segment) => ({ segment, label: segment.label })),
            ...(config.complement ? [{ segment: undefined, label: 'complement' }] : []),
          ];
          for (const { segment, label } of labels) {
            const select = segment
              ? await segmentRows(segment, [table], [sql`${label}`])
              : sql`SELECT ${sql.join([...keysOf('w'), sql`${label}`])} FROM ${ctx.ref(input)} AS w WHERE ${notIn('w', table)}`;
            const inserted = await sql`INSERT INTO ${table} (${names}) ${select}`.execute(ctx.database.db);
            count += Number(inserted.numAffectedRows ?? 0);
          }
          return count;
        },
        { columns: [...input.columns, { name: SEGMENT_COLUMN, type: 'string' }] },
      );
      return;
    }
    const taken: RawBuilder<unknown>[] = [];
    for (const segment of config.segments) {
      const table = await ctx.output(
        segment.label,
        dimension,
        await segmentRows(segment, config.overlap ? [] : taken, []),
        { columns: input.columns, activate: (count) => count > 0 || !segment.skipEmpty },
      );
      taken.push(ctx.ref(table));
    }
    if (config.complement) await ctx.output('complement', dimension, rest(taken), { columns: input.columns });
  },
});

type Segment = z.infer<typeof segmentShape>;

/** The column naming each row's segment when all segments share one table (`sameTable`). */
export const SEGMENT_COLUMN = 'segment';

function fieldRef(schema: WorkspaceSchema, rows: WorkingTable, path: string): FieldRef {
  const ref = new Scope(schema, rows.dimension, rows.columns).field(path.split('.'));
  if (typeof ref === 'string') throw new Error(ref);
  return ref;
}
