import { sql, type RawBuilder } from 'kysely';
import { z } from 'zod';
import type { DatabaseKind } from '../db/dialect.ts';
import { extraColumns, FILE_DIMENSION, type ExtraColumn } from '../engine/working-tables.ts';
import { checkRule, type RuleCheckOptions } from '../rules/check-rule.ts';
import { checkExpression } from '../rules/expression/check.ts';
import { AGGREGATE_DEFS, AGGREGATES } from '../rules/expression/functions/aggregate.ts';
import { expressionSql, orderKeySql } from '../rules/expression/to-sql.ts';
import { aggregateSubquery, ruleSql } from '../rules/rule-sql.ts';
import { Scope, type FieldRef } from '../rules/scope.ts';
import { asWritten } from '../rules/system-links.ts';
import type { ValueType } from '../rules/values.ts';
import type { ColumnType, TableDef, WorkspaceSchema } from '../schema/types.ts';
import {
  carriedColumns,
  columnSql,
  expressionIssues,
  fieldIssues,
  label,
  passThrough,
  populationColumn,
  ruleIssues,
  ruleShape,
  sortShape,
} from './checks.ts';
import { defineActivity, MAIN, type Population } from './types.ts';

const name = z.string().regex(/^[a-z_][a-z0-9_]*$/, 'a column name: lowercase letters, digits and _');

/**
 * Adds columns to the population: expressions over the row and its linked rows, data of one-to-many
 * links (the first n lines as numbered columns, or aggregates, each with its own filter and order), and
 * columns of the rows of other inputs (a loaded file, another population) matched by column pairs.
 */
export const enrich = defineActivity({
  type: 'enrich',
  label: 'Enrichment',
  category: 'targeting',
  description: 'adds attributes, expressions and linked data to the population',
  inputs: 'one-or-many',
  config: z.strictObject({
    /** With several inputs: the one whose rows are enriched (the first input by default). */
    primary: z.string().min(1).optional(),
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
    /** Columns of another input's rows (a loaded file, another population), matched by column pairs. */
    joins: z
      .array(
        z.strictObject({
          /** The other input, as `inputs` names it. */
          input: z.string().min(1),
          /** The added columns are named <name>_<column>. */
          name,
          /** Pairs that must all be equal: a column of the population, a column of the other input's rows. */
          on: z.array(z.strictObject({ field: z.string().min(1), column: z.string().min(1) })).default([]),
          /**
           * An advanced join: a rule over the population's rows in which `{ param: column }` stands for a
           * column of the other input's row (with `on`, both must hold).
           */
          where: ruleShape.optional(),
          /** The other rows' columns to add. */
          columns: z.array(name).min(1),
        }),
      )
      .default([]),
  }),
  outputs: () => [MAIN],
  check(config, ctx) {
    const primaryIndex = Math.max(0, config.primary ? ctx.inputRefs.indexOf(config.primary) : 0);
    const input = ctx.inputs[primaryIndex] ?? { kind: 'unknown' };
    const { population, issues } = passThrough({ ...ctx, inputs: [input] }, 'enrich');
    const table = population.kind === 'dimension' ? population.table : undefined;
    const added: ExtraColumn[] = [];
    const add = (n: string, type: ColumnType, at: string) => {
      // Names are unique in the working table, and apart from the table's: a later column named `email`
      // would otherwise be ambiguous.
      const clash = [...(carriedColumns(population) ?? []), ...added].some((c) => c.name === n)
        ? `column ${n} is added twice`
        : table?.columns.some((c) => c.name === n)
          ? `column ${n} is added, but ${table.name} has a column of that name`
          : undefined;
      if (clash) issues.push({ path: `${ctx.path}.${at}`, message: clash });
      added.push({ name: n, type });
    };
    config.attributes.forEach((a, i) => {
      const at = `attributes[${i}].expr`;
      // An attribute may use the columns the rows already carry (an earlier enrichment's).
      const carried = carriedColumns(population);
      const expression = expressionIssues(ctx, table, a.expr, at, { carried });
      issues.push(...expression);
      const type =
        table && expression.length === 0 ? attributeType(ctx.schema, table, a.expr, carried) : 'string';
      add(a.name, type, `attributes[${i}].name`);
    });
    config.collections.forEach((c, i) => {
      const at = `collections[${i}]`;
      if (c.lines === undefined && c.aggregates.length === 0) {
        issues.push({ path: `${ctx.path}.${at}`, message: 'take lines (lines: n) or aggregates, or both' });
      }
      if (c.lines !== undefined && c.columns.length === 0) {
        issues.push({ path: `${ctx.path}.${at}.columns`, message: 'name the columns the lines take' });
      }
      const collection = table && new Scope(ctx.schema, table).collection(c.link.split('.'));
      if (typeof collection === 'string') {
        issues.push({ path: `${ctx.path}.${at}.link`, message: collection });
        return;
      }
      const child = collection?.table;
      issues.push(...ruleIssues(ctx, child, c.filter, `${at}.filter`));
      c.sort.forEach((s, j) => issues.push(...fieldIssues(ctx, child, s.field, `${at}.sort[${j}].field`)));
      c.columns.forEach((col, j) => {
        const column = fieldIssues(ctx, child, col, `${at}.columns[${j}]`);
        issues.push(...column);
        const type = child && column.length === 0 ? fieldOf(ctx.schema, child, col).column.type : 'string';
        for (let line = 1; line <= (c.lines ?? 0); line++)
          add(lineColumn(c.name, line, col), type, `${at}.columns[${j}]`);
      });
      c.aggregates.forEach((a, j) => {
        const of = a.of ? fieldIssues(ctx, child, a.of, `${at}.aggregates[${j}].of`) : [];
        issues.push(...of);
        if (!a.of && a.fn !== 'count')
          issues.push({
            path: `${ctx.path}.${at}.aggregates[${j}].of`,
            message: `${a.fn} needs a column (of)`,
          });
        const value =
          child && a.of && of.length === 0 ? fieldOf(ctx.schema, child, a.of).column.type : undefined;
        add(a.name, columnType(AGGREGATE_DEFS[a.fn].returns(value)), `${at}.aggregates[${j}].name`);
      });
    });
    const joined = new Set<number>();
    config.joins.forEach((join, i) => {
      const at = `joins[${i}]`;
      const index = ctx.inputRefs.indexOf(join.input);
      if (index < 0 || index === primaryIndex) {
        issues.push({
          path: `${ctx.path}.${at}.input`,
          message:
            index < 0
              ? `${join.input} is not one of the inputs (${ctx.inputRefs.join(', ')})`
              : `${join.input} is the population being enriched; join another input`,
        });
        return;
      }
      joined.add(index);
      const other = ownColumns(ctx.inputs[index]!);
      const otherColumn = (column: string, path: string) => {
        const found = other?.find((c) => c.name === column);
        if (other && !found) {
          issues.push({
            path: `${ctx.path}.${at}.${path}`,
            message: `${join.input} has no column "${column}" (columns: ${other.map((c) => c.name).join(', ')})`,
          });
        }
        return found?.type;
      };
      join.on.forEach((pair, j) => {
        const field = populationColumn(ctx.schema, population, pair.field);
        if (field && 'error' in field)
          issues.push({ path: `${ctx.path}.${at}.on[${j}].field`, message: field.error });
        const right = otherColumn(pair.column, `on[${j}].column`);
        const mismatch = field && 'type' in field && right && pairMismatch(pair, field.type, right);
        if (mismatch) issues.push({ path: `${ctx.path}.${at}.on[${j}]`, message: mismatch });
      });
      if (join.on.length === 0 && join.where === undefined)
        issues.push({
          path: `${ctx.path}.${at}.on`,
          message: 'join on column pairs (on), a rule (where), or both',
        });
      if (other)
        issues.push(
          ...ruleIssues(ctx, table, join.where, `${at}.where`, {
            carried: carriedColumns(population),
            ...boundColumns(join.input, other),
          }),
        );
      join.columns.forEach((column, j) => {
        const type = otherColumn(column, `columns[${j}]`) ?? 'string';
        add(joinColumn(join.name, column), type, `${at}.name`);
      });
    });
    ctx.inputRefs.forEach((ref, i) => {
      if (i !== primaryIndex && !joined.has(i))
        issues.push({
          path: ctx.path,
          message: `the input ${ref} is not used: join it (joins) or remove it`,
        });
    });
    const columns = carriedColumns(population);
    return {
      population:
        population.kind === 'dimension' && columns
          ? { ...population, columns: [...columns, ...added] }
          : population,
      issues,
    };
  },
  async execute(config, ctx) {
    const primaryIndex = Math.max(0, config.primary ? ctx.inputRefs.indexOf(config.primary) : 0);
    const input = ctx.inputs[primaryIndex]!;
    const dimension = input.dimension;
    const kind = ctx.database.dialect.kind;
    const { scope } = ctx.rule(dimension, { and: [] }, input);
    const rules = new Scope(ctx.schema, dimension, input.columns);
    const added: Array<{ name: string; type: ColumnType; sql: RawBuilder<unknown> }> = [];
    // Lines and joins are derived tables of one row per population key, LEFT JOINed to the population.
    const derived: RawBuilder<unknown>[] = [];
    const joinFirstRows = (rows: RawBuilder<unknown>, count: number, types: ColumnType[]) => {
      const alias = `l${derived.length + 1}`;
      const on = dimension.primaryKey.map(
        (k, i) => sql`${sql.ref(`${alias}.k${i}`)} = ${sql.ref(`${scope.alias}.${k}`)}`,
      );
      derived.push(sql`LEFT JOIN ${rows} AS ${sql.id(alias)} ON ${sql.join(on, sql` AND `)}`);
      return (line: number, value: number) => ({
        sql: sql.ref(`${alias}.${cellName(line, value)}`),
        type: types[value]!,
      });
    };
    for (const attribute of config.attributes) {
      const typed = checkExpression(attribute.expr, { scope: rules, variables: {} });
      added.push({
        name: attribute.name,
        type: columnType(typed.type),
        sql: expressionSql(typed, scope.expressionContext()),
      });
    }
    for (const collection of config.collections) {
      const found = rules.collection(collection.link.split('.'));
      if (typeof found === 'string') throw new Error(found);
      // Events count human ones only, unless the collection's filter names `human` (as in rules).
      const ref = asWritten(found, collection.filter);
      const where =
        collection.filter === undefined
          ? undefined
          : checkRule(ctx.schema, ref.table, collection.filter).rule;
      if (collection.lines !== undefined) {
        // The linked rows of the population's rows, numbered per row in the collection's order.
        const { scope: rows } = ctx.rule(dimension, { and: [] }, input);
        const { scope: inner, correlation } = rows.child(ref);
        const fields = collection.columns.map((c) => fieldOf(ctx.schema, ref.table, c));
        const values = fields.map((f) => inner.column(f));
        const order = [
          ...collection.sort.map((s) => {
            const field = fieldOf(ctx.schema, ref.table, s.field);
            return orderKeySql(inner.column(field), field.column.type, s.order === 'desc', kind);
          }),
          // Equal sort values are ordered by the linked table's key: the same lines on every run.
          ...ref.table.primaryKey.map((k) => sql`${sql.ref(`${inner.alias}.${k}`)} ASC`),
        ];
        const condition = where ? sql`${correlation} AND ${ruleSql(where, inner)}` : correlation;
        const types = fields.map((f) => f.column.type);
        const cell = joinFirstRows(
          firstRows(kind, {
            keys: dimension.primaryKey.map((k) => sql.ref(`${rows.alias}.${k}`)),
            values,
            types,
            order,
            // Comma-joined: each side's own LEFT JOINs stay on its side on both databases.
            from: sql`${rows.from()}, ${inner.from()}`,
            where: condition,
            count: collection.lines,
          }),
          collection.lines,
          types,
        );
        for (let line = 1; line <= collection.lines; line++) {
          collection.columns.forEach((column, j) =>
            added.push({ name: lineColumn(collection.name, line, column), ...cell(line, j) }),
          );
        }
      }
      for (const aggregate of collection.aggregates) {
        const fn = AGGREGATE_DEFS[aggregate.fn];
        const field = aggregate.of === undefined ? undefined : fieldOf(ctx.schema, ref.table, aggregate.of);
        const value = field && { kind: 'field' as const, ref: field, type: field.column.type };
        const type = fn.returns(value?.type)!;
        added.push({
          name: aggregate.name,
          type: columnType(type),
          sql: aggregateSubquery(
            { kind: 'aggregate', fn, collection: ref, value, where, type },
            scope,
            false,
          ),
        });
      }
    }
    for (const join of config.joins) {
      const other = ctx.inputs[ctx.inputRefs.indexOf(join.input)]!;
      const columns = [...keyColumns(other.dimension), ...other.columns];
      const otherColumn = (column: string) => {
        const found = columns.find((c) => c.name === column);
        if (!found) throw new Error(`${join.input} has no column "${column}"`);
        return { sql: sql.ref(`o.${column}`), type: found.type };
      };
      // The rule's parameters are the other row's columns (alias o), as in a reconciliation.
      const { scope: rows, where } = ctx.rule(dimension, join.where ?? { and: [] }, input, {
        columns,
        alias: 'o',
        described: boundColumns(join.input, columns).closed,
      });
      const on = join.on.map((pair) => {
        const field = columnSql(rows, input, pair.field);
        const column = otherColumn(pair.column);
        const mismatch = pairMismatch(pair, field.type, column.type);
        if (mismatch) throw new Error(mismatch);
        return sql`${column.sql} = ${field.sql}`;
      });
      const values = join.columns.map(otherColumn);
      const types = values.map((v) => v.type);
      // Several matching rows: the first by the other rows' key is taken (an equality never holds for NULLs).
      const cell = joinFirstRows(
        firstRows(kind, {
          keys: dimension.primaryKey.map((k) => sql.ref(`${rows.alias}.${k}`)),
          values: values.map((v) => v.sql),
          types,
          order: other.dimension.primaryKey.map((k) => sql`${sql.ref(`o.${k}`)} ASC`),
          from: sql`${rows.from()} JOIN ${ctx.ref(other)} AS o ON ${sql.join([...on, where], sql` AND `)}`,
          count: 1,
        }),
        1,
        types,
      );
      join.columns.forEach((column, j) => added.push({ name: joinColumn(join.name, column), ...cell(1, j) }));
    }
    const keys = dimension.primaryKey.map((k) => sql.ref(`${scope.alias}.${k}`));
    const select = sql`SELECT ${sql.join([...keys, ...extraColumns(input, 'w'), ...added.map((a) => a.sql)])} FROM ${scope.from()}${
      derived.length ? sql` ${sql.join(derived, sql` `)}` : sql``
    }`;
    await ctx.output('', dimension, select, {
      columns: [...input.columns, ...added.map(({ name, type }) => ({ name, type }))],
    });
  },
});

/** The other input's columns as the only parameters of a join's rule. */
function boundColumns(
  input: string,
  columns: ExtraColumn[],
): Required<Pick<RuleCheckOptions, 'parameters' | 'closed'>> {
  return {
    parameters: Object.fromEntries(columns.map((c) => [c.name, c.type])),
    closed: `the columns of ${input}`,
  };
}

/**
 * The first `count` rows of each group of `from` (grouped by `keys`, in `order`), as one row per group:
 * the keys as k0, k1…, then for line i and value j the column c<i>_<j> (NULL past a group's last row).
 * Set-based, read once: ROW_NUMBER() over the groups, then a pivot (an aggregate of CASE per cell, GROUP
 * BY the keys). One correlated subquery per cell (LIMIT 1 OFFSET i) would look up and sort each row's
 * linked rows lines × columns times; here both databases sort (or hash) the linked rows once, which on 1M
 * rows is one pass instead of millions of index probes.
 */
function firstRows(
  kind: DatabaseKind,
  source: {
    keys: RawBuilder<unknown>[];
    values: RawBuilder<unknown>[];
    types: ColumnType[];
    order: RawBuilder<unknown>[];
    from: RawBuilder<unknown>;
    where?: RawBuilder<unknown>;
    count: number;
  },
): RawBuilder<unknown> {
  const keys = source.keys.map((_, i) => sql.id(`k${i}`));
  const numbered = sql`SELECT ${sql.join([
    ...source.keys.map((k, i) => sql`${k} AS ${keys[i]!}`),
    ...source.values.map((v, j) => sql`${v} AS ${sql.id(`v${j}`)}`),
    sql`row_number() OVER (PARTITION BY ${sql.join(source.keys)} ORDER BY ${sql.join(source.order)}) AS rn`,
  ])} FROM ${source.from}${source.where ? sql` WHERE ${source.where}` : sql``}`;
  // One line needs no pivot: the first row of each group is the group's row.
  if (source.count === 1) {
    const cells = source.values.map((_, j) => sql`${sql.id(`v${j}`)} AS ${sql.id(cellName(1, j))}`);
    return sql`(SELECT ${sql.join([...keys, ...cells])} FROM (${numbered}) AS n WHERE rn = 1)`;
  }
  const cells: RawBuilder<unknown>[] = [];
  for (let line = 1; line <= source.count; line++) {
    source.types.forEach((type, j) => {
      // Each group has at most one row per line, so any aggregate that skips NULLs picks it; PostgreSQL
      // has no max() of booleans, bool_or() is the same there.
      const pick = kind === 'postgres' && type === 'boolean' ? 'bool_or' : 'max';
      const value = sql`CASE WHEN rn = ${sql.lit(line)} THEN ${sql.id(`v${j}`)} END`;
      cells.push(sql`${sql.raw(pick)}(${value}) AS ${sql.id(cellName(line, j))}`);
    });
  }
  return sql`(SELECT ${sql.join([...keys, ...cells])} FROM (${numbered}) AS n WHERE rn <= ${sql.lit(source.count)} GROUP BY ${sql.join(keys)})`;
}

function cellName(line: number, value: number): string {
  return `c${line}_${value}`;
}

/** The numbered column of a collection's line: purchases_2_amount, purchases_1_product_name. */
function lineColumn(collection: string, line: number, column: string): string {
  return `${collection}_${line}_${column.replaceAll('.', '_')}`;
}

function joinColumn(join: string, column: string): string {
  return `${join}_${column}`;
}

function fieldOf(schema: WorkspaceSchema, table: TableDef, path: string): FieldRef {
  const ref = new Scope(schema, table).field(path.split('.'));
  if (typeof ref === 'string') throw new Error(ref);
  return ref;
}

function attributeType(
  schema: WorkspaceSchema,
  table: TableDef,
  expr: string,
  carried: ExtraColumn[] | undefined,
): ColumnType {
  return columnType(checkExpression(expr, { scope: new Scope(schema, table, carried), variables: {} }).type);
}

/** The column type that holds a value type: an always-empty value is kept as text. */
function columnType(type: ValueType | undefined): ColumnType {
  return type === undefined || type === 'null' ? 'string' : type;
}

function keyColumns(dimension: TableDef): ExtraColumn[] {
  return dimension.primaryKey.map((k) => ({
    name: k,
    type: dimension.columns.find((c) => c.name === k)!.type,
  }));
}

/** The columns of a population's own rows (what a join can match and take), when known before the run. */
function ownColumns(population: Population): ExtraColumn[] | undefined {
  const carried = carriedColumns(population);
  if (!carried) return undefined;
  return [...keyColumns(population.kind === 'dimension' ? population.table : FILE_DIMENSION), ...carried];
}

/** Why a pair cannot be compared, if it cannot: the same type, or two numbers. */
function pairMismatch(
  pair: { field: string; column: string },
  left: ColumnType,
  right: ColumnType,
): string | undefined {
  const numbers = ['integer', 'decimal'];
  if (left === right || (numbers.includes(left) && numbers.includes(right))) return undefined;
  return `${pair.field} (${left}) cannot match ${pair.column} (${right})`;
}
