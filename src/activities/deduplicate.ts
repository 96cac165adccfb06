import { sql, type RawBuilder } from 'kysely';
import { z } from 'zod';
import { extraColumns } from '../engine/working-tables.ts';
import { checkExpression } from '../rules/expression/check.ts';
import { expressionSql } from '../rules/expression/to-sql.ts';
import { Scope } from '../rules/scope.ts';
import { carriedColumns, expressionIssues, fieldIssues, passThrough } from './checks.ts';
import { COMPLEMENT, defineActivity, MAIN } from './types.ts';

/** Keeps n rows per group of equal values (one email, one household…), chosen by a method. */
export const deduplicate = defineActivity({
  type: 'deduplicate',
  label: 'Deduplication',
  category: 'targeting',
  description: 'keeps a given number of rows per group of duplicates',
  inputs: 'one',
  config: z
    .strictObject({
      /** The fields that make rows duplicates, in priority order. */
      fields: z.array(z.string().min(1)).min(1),
      /** Rows kept per group (0 keeps them all: only the complement changes). */
      keep: z.number().int().min(0).default(1),
      method: z.enum(['random', 'expression', 'non-empty', 'values']).default('random'),
      /** method expression: the rows with the smallest (min) or largest (max) value are kept. */
      expression: z.string().min(1).optional(),
      order: z.enum(['min', 'max']).default('min'),
      /** method non-empty or values: the field examined. */
      field: z.string().min(1).optional(),
      /** method values: preferred values, best first. */
      values: z
        .array(z.union([z.string(), z.number(), z.boolean()]))
        .min(1)
        .optional(),
      complement: z.boolean().default(false),
    })
    .refine((c) => c.method !== 'expression' || c.expression !== undefined, {
      message: 'method expression needs an expression',
      path: ['expression'],
    })
    .refine((c) => !['non-empty', 'values'].includes(c.method) || c.field !== undefined, {
      message: 'this method needs the field it examines',
      path: ['field'],
    })
    .refine((c) => c.method !== 'values' || c.values !== undefined, {
      message: 'method values needs the preferred values',
      path: ['values'],
    }),
  outputs: (config) => (config.complement ? [MAIN, COMPLEMENT] : [MAIN]),
  check(config, ctx) {
    const { population, issues } = passThrough(ctx, 'deduplicate');
    const table = population.kind === 'dimension' ? population.table : undefined;
    const carried = carriedColumns(population);
    config.fields.forEach((f, i) => issues.push(...fieldIssues(ctx, table, f, `fields[${i}]`, { carried })));
    if (config.expression)
      issues.push(...expressionIssues(ctx, table, config.expression, 'expression', { carried }));
    if (config.field) issues.push(...fieldIssues(ctx, table, config.field, 'field', { carried }));
    return { population, issues };
  },
  async execute(config, ctx) {
    const input = ctx.inputs[0]!;
    const dimension = input.dimension;
    const { scope } = ctx.rule(dimension, { and: [] }, input);
    // Fields and expressions may name the columns the rows carry (an enrichment's).
    const rows = new Scope(ctx.schema, dimension, input.columns);
    const column = (path: string) => {
      const ref = rows.field(path.split('.'));
      if (typeof ref === 'string') throw new Error(ref);
      return scope.column(ref);
    };
    const keys = dimension.primaryKey.map((k) => sql.ref(`${scope.alias}.${k}`));
    const fields = config.fields.map(column);
    // Which row of a group is kept first: the method's preference, then the key (a repeatable choice).
    let preference: RawBuilder<unknown>[];
    switch (config.method) {
      case 'random':
        preference = [sql`random()`];
        break;
      case 'expression': {
        const typed = checkExpression(config.expression!, { scope: rows, variables: {} });
        const value = expressionSql(typed, scope.expressionContext());
        preference = [
          sql`(CASE WHEN ${value} IS NULL THEN 1 ELSE 0 END)`,
          sql`${value} ${sql.raw(config.order === 'max' ? 'DESC' : 'ASC')}`,
        ];
        break;
      }
      case 'non-empty': {
        const value = column(config.field!);
        preference = [sql`(CASE WHEN ${value} IS NULL OR CAST(${value} AS TEXT) = '' THEN 1 ELSE 0 END)`];
        break;
      }
      case 'values': {
        const value = column(config.field!);
        const ranks = config.values!.map((v, i) => sql`WHEN ${value} = ${v} THEN ${sql.lit(i)}`);
        preference = [sql`(CASE ${sql.join(ranks, sql` `)} ELSE ${sql.lit(config.values!.length)} END)`];
        break;
      }
    }
    // Rows with an empty value in a deduplication field are nobody's duplicates: they are all kept.
    const empty = sql.join(
      fields.map((f) => sql`${f} IS NULL`),
      sql` OR `,
    );
    // Keys and the columns enrichment added travel on to both outputs.
    const carried = [...keys, ...extraColumns(input, 'w')];
    const numbered = sql`SELECT ${sql.join(carried)}, CASE WHEN ${empty} THEN 1 ELSE row_number() OVER (PARTITION BY ${sql.join(fields)} ORDER BY ${sql.join([...preference, ...keys])}) END AS n FROM ${scope.from()}`;
    const names = sql.join(
      [...dimension.primaryKey, ...input.columns.map((c) => c.name)].map((k) => sql.id(k)),
    );
    const options = { columns: input.columns };
    const kept = await ctx.output(
      '',
      dimension,
      config.keep === 0
        ? sql`SELECT ${names} FROM ${ctx.ref(input)}`
        : sql`SELECT ${names} FROM (${numbered}) AS d WHERE n <= ${sql.lit(config.keep)}`,
      options,
    );
    if (config.complement) {
      await ctx.output(
        'complement',
        dimension,
        sql`SELECT ${names} FROM ${ctx.ref(input)} EXCEPT SELECT ${names} FROM ${ctx.ref(kept)}`,
        options,
      );
    }
  },
});
