import { sql, type RawBuilder } from 'kysely';
import { z } from 'zod';
import { extraColumns } from '../engine/working-tables.ts';
import { checkRule } from '../rules/check-rule.ts';
import { checkExpression } from '../rules/expression/check.ts';
import { AGGREGATE_DEFS, AGGREGATES } from '../rules/expression/functions/aggregate.ts';
import { expressionSql } from '../rules/expression/to-sql.ts';
import { aggregateSubquery } from '../rules/rule-sql.ts';
import type { ColumnType } from '../schema/types.ts';
import type { Issue } from '../errors.ts';
import { Scope } from '../rules/scope.ts';
import {
  expressionIssues,
  fieldIssues,
  label,
  passThrough,
  ruleIssues,
  ruleShape,
  sortShape,
} from './checks.ts';
import { defineActivity, MAIN } from './types.ts';

const name = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a column name: lowercase letters, digits and _');

/**
 * Adds columns to the population: expressions over the row and its linked rows, and data of one-to-many
 * links, as the first n lines (numbered columns) or as aggregates, each with its own filter and order.
 */
export const enrich = defineActivity({
  type: 'enrich',
  label: 'Enrichment',
  category: 'targeting',
  description: 'adds attributes, expressions and linked data to the population',
  inputs: 'one',
  config: z.strictObject({
    attributes: z.array(z.strictObject({ name, expr: z.string().min(1) })).default([]),
    collections: z
      .array(
        z.strictObject({
          name,
          label: label.optional(),
          /** A one-to-many link of the population's table. */
          link: z.string().min(1),
          filter: ruleShape.optional(),
          sort: z.array(sortShape).default([]),
          /** The first n linked rows, as columns name_1_column, name_2_column… */
          lines: z.number().int().min(1).max(100).optional(),
          /** Columns of the linked rows to take with the lines. */
          columns: z.array(z.string().min(1)).default([]),
          aggregates: z
            .array(z.strictObject({ name, fn: z.enum(AGGREGATES), of: z.string().min(1).optional() }))
            .default([]),
        }),
      )
      .default([]),
  }),
  outputs: () => [MAIN],
  check(config, ctx) {
    const { population, issues } = passThrough(ctx, 'enrich');
    const table = population.kind === 'dimension' ? population.table : undefined;
    const names = new Set<string>();
    const unique = (n: string, at: string, list: Issue[]) => {
      if (names.has(n)) list.push({ path: `${ctx.path}.${at}`, message: `column ${n} is added twice` });
      names.add(n);
    };
    config.attributes.forEach((a, i) => {
      unique(a.name, `attributes[${i}].name`, issues);
      issues.push(...expressionIssues(ctx, table, a.expr, `attributes[${i}].expr`));
    });
    config.collections.forEach((c, i) => {
      const at = `collections[${i}]`;
      unique(c.name, `${at}.name`, issues);
      c.aggregates.forEach((a, j) => unique(a.name, `${at}.aggregates[${j}].name`, issues));
      if (!table) return;
      const collection = new Scope(ctx.schema, table).collection(c.link.split('.'));
      if (typeof collection === 'string') {
        issues.push({ path: `${ctx.path}.${at}.link`, message: collection });
        return;
      }
      const child = collection.table;
      if (c.lines === undefined && c.aggregates.length === 0) {
        issues.push({ path: `${ctx.path}.${at}`, message: 'take lines (lines: n) or aggregates, or both' });
      }
      issues.push(...ruleIssues(ctx, child, c.filter, `${at}.filter`));
      c.sort.forEach((s, j) => issues.push(...fieldIssues(ctx, child, s.field, `${at}.sort[${j}].field`)));
      c.columns.forEach((col, j) => issues.push(...fieldIssues(ctx, child, col, `${at}.columns[${j}]`)));
      c.aggregates.forEach((a, j) => {
        if (a.of) issues.push(...fieldIssues(ctx, child, a.of, `${at}.aggregates[${j}].of`));
        else if (a.fn !== 'count')
          issues.push({
            path: `${ctx.path}.${at}.aggregates[${j}].of`,
            message: `${a.fn} needs a column (of)`,
          });
      });
    });
    return { population, issues };
  },
  async execute(config, ctx) {
    const input = ctx.inputs[0]!;
    const dimension = input.dimension;
    const { scope } = ctx.rule(dimension, { and: [] }, input);
    const rules = new Scope(ctx.schema, dimension);
    const added: Array<{ name: string; type: ColumnType; sql: RawBuilder<unknown> }> = [];
    for (const attribute of config.attributes) {
      const typed = checkExpression(attribute.expr, { scope: rules, variables: {} });
      const type = typed.type === 'null' ? 'string' : typed.type;
      added.push({ name: attribute.name, type, sql: expressionSql(typed, scope.expressionContext()) });
    }
    for (const collection of config.collections) {
      if (collection.lines !== undefined)
        throw new Error(`collections as lines (${collection.name}) are not available yet; use aggregates`);
      const ref = rules.collection(collection.link.split('.'));
      if (typeof ref === 'string') throw new Error(ref);
      const where =
        collection.filter === undefined
          ? undefined
          : checkRule(ctx.schema, ref.table, collection.filter).rule;
      for (const aggregate of collection.aggregates) {
        const fn = AGGREGATE_DEFS[aggregate.fn];
        const field =
          aggregate.of === undefined
            ? undefined
            : new Scope(ctx.schema, ref.table).field(aggregate.of.split('.'));
        if (typeof field === 'string') throw new Error(field);
        const value = field && { kind: 'field' as const, ref: field, type: field.column.type };
        const type = fn.returns(value?.type)!;
        added.push({
          name: aggregate.name,
          type: type === 'null' ? 'string' : type,
          sql: aggregateSubquery(
            { kind: 'aggregate', fn, collection: ref, value, where, type },
            scope,
            false,
          ),
        });
      }
    }
    const keys = dimension.primaryKey.map((k) => sql.ref(`${scope.alias}.${k}`));
    const select = sql`SELECT ${sql.join([...keys, ...extraColumns(input, 'w'), ...added.map((a) => a.sql)])} FROM ${scope.from()}`;
    await ctx.output('', dimension, select, {
      columns: [...input.columns, ...added.map(({ name, type }) => ({ name, type }))],
    });
  },
});
