import { sql } from 'kysely';
import { z } from 'zod';
import type { ExtraColumn } from '../engine/working-tables.ts';
import type { Issue } from '../errors.ts';
import type { RuleCheckOptions } from '../rules/check-rule.ts';
import { comparisonType } from '../rules/values.ts';
import { COLUMN_TYPES, findColumn, findTable, type TableDef } from '../schema/types.ts';
import { columnIssues, fieldIssues, onDimension, ruleIssues, ruleShape } from './checks.ts';
import { COMPLEMENT, defineActivity, MAIN, type ExecuteContext } from './types.ts';

/**
 * Rows of a loaded file matched to the rows of a dimension that already exist, by column pairs or by a
 * rule. The result is rows of the dimension carrying the file's columns; a row that several lines match
 * is kept once, with the first of them (a population is a set of the dimension's rows). The lines that
 * match nothing are kept, as file rows, on the complement output unless keepUnreconciled is false.
 */
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
      /** Only the dimension's rows this rule keeps may be matched ({ param: column } as in `rule`). */
      filter: ruleShape.optional(),
      /** Keep the lines that match nothing, on the complement output (otherwise they are dropped). */
      keepUnreconciled: z.boolean().default(true),
    })
    .refine((c) => (c.on === undefined) !== (c.rule === undefined), {
      message: 'reconcile on column pairs (on) or by a rule, one of the two',
      path: ['on'],
    }),
  outputs: (config) => (config.keepUnreconciled ? [MAIN, COMPLEMENT] : [MAIN]),
  check(config, ctx) {
    const input = ctx.inputs[0];
    // The file's columns, when the input is a loaded file whose columns are known.
    const file = input?.kind === 'file' ? input.columns : undefined;
    const { population, issues } = onDimension(ctx, config.dimension, (table) => {
      const found: Issue[] = [];
      if (input?.kind === 'dimension') {
        found.push({
          path: ctx.path,
          message: 'reconcile takes the rows of a loaded file (load-file); this input is already a dimension',
        });
      }
      config.on?.forEach((pair, i) => {
        if (input?.kind === 'file') found.push(...columnIssues(ctx, input, pair.column, `on[${i}].column`));
        const type = file?.find((c) => c.name === pair.column)?.type;
        const comparable = type && COLUMN_TYPES.filter((t) => comparisonType(type, t) !== undefined);
        found.push(...fieldIssues(ctx, table, pair.field, `on[${i}].field`, { types: comparable }));
      });
      const options = file && parameterOptions(file);
      found.push(...ruleIssues(ctx, table, config.rule, 'rule', options));
      found.push(...ruleIssues(ctx, table, config.filter, 'filter', options));
      // The result's rows show the dimension's columns and then the file's: one name cannot be both.
      for (const column of file ?? []) {
        if (findColumn(table, column.name)) {
          found.push({
            path: ctx.path,
            message: `the file's column ${column.name} is also a column of ${table.name}; give it another name in the load-file (its header can stay: { name: file_${column.name}, header: … })`,
          });
        }
      }
      return found;
    });
    return {
      population: population.kind === 'dimension' ? { ...population, columns: file } : population,
      issues,
      // The lines that match nothing stay rows of the file.
      ports: { complement: input?.kind === 'file' ? input : { kind: 'file' } },
    };
  },
  async execute(config, ctx) {
    const input = ctx.inputs[0]!;
    const dimension = findTable(ctx.schema, config.dimension)!;
    const { scope, where } = matching(ctx, dimension, input.columns, config);
    const keys = dimension.primaryKey;
    const carried = input.columns.map((c) => sql.ref(`f.${c.name}`));
    const matches = sql`${scope.from()} JOIN ${ctx.ref(input)} AS f ON ${where}`;
    // Each matched row of the dimension once, with the first line that matches it.
    const first = sql`SELECT ${sql.join(keys.map((k) => sql.ref(`${scope.alias}.${k}`)))}, min(f._line) AS _line
      FROM ${matches} GROUP BY ${sql.join(keys.map((k) => sql.ref(`${scope.alias}.${k}`)))}`;
    const reconciled = await ctx.output(
      '',
      dimension,
      sql`SELECT ${sql.join([...keys.map((k) => sql.ref(`m.${k}`)), ...carried])}
        FROM (${first}) AS m JOIN ${ctx.ref(input)} AS f ON f._line = m._line`,
      { columns: input.columns },
    );
    const counted = await sql<{ pairs: unknown; lines: unknown }>`
      SELECT count(*) AS pairs, count(DISTINCT f._line) AS lines FROM ${matches}`.execute(ctx.database.db);
    const pairs = Number(counted.rows[0]?.pairs ?? 0);
    const unmatched = input.count - Number(counted.rows[0]?.lines ?? 0);
    if (pairs > reconciled.count) {
      await ctx.log(
        `${pairs - reconciled.count} line(s) matched a ${dimension.name} row that an earlier line matched: merged into it (the first line's columns are kept)`,
      );
    }
    if (config.keepUnreconciled) {
      await ctx.output(
        'complement',
        input.dimension,
        sql`SELECT ${sql.join([sql.ref('f._line'), ...carried])} FROM ${ctx.ref(input)} AS f
          WHERE NOT EXISTS (SELECT 1 FROM ${scope.from()} WHERE ${where})`,
        { columns: input.columns },
      );
    }
    if (unmatched > 0) {
      await ctx.log(
        `${unmatched} line(s) match no ${dimension.name} row: ${config.keepUnreconciled ? 'kept on the complement output' : 'dropped (keepUnreconciled: false)'}`,
      );
    }
  },
});

const FILE_COLUMNS = "the file's columns";

/** The file's columns as the parameters of the rules, and the only ones there are. */
function parameterOptions(columns: ExtraColumn[]): RuleCheckOptions {
  return {
    parameters: Object.fromEntries(columns.map((c) => [c.name, c.type])),
    closed: FILE_COLUMNS,
  };
}

/**
 * The condition a dimension row (the scope's table) and a line of the file (alias `f`) match on: the
 * pairs as equalities, the rule, the filter, all together as one rule in which each parameter is the
 * line's column of that name.
 */
function matching(
  ctx: ExecuteContext,
  dimension: TableDef,
  columns: ExtraColumn[],
  config: { on?: Array<{ column: string; field: string }>; rule?: unknown; filter?: unknown },
) {
  const rule = {
    and: [
      ...(config.on ?? []).map((p) => ({ field: p.field, op: 'eq', value: { param: p.column } })),
      ...[config.rule, config.filter].filter((r) => r !== undefined),
    ],
  };
  return ctx.rule(dimension, rule, undefined, { columns, alias: 'f', described: FILE_COLUMNS });
}
