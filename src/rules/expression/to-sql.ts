import { sql, type RawBuilder } from 'kysely';
import type { DatabaseKind } from '../../db/bulk-values.ts';
import type { FieldRef } from '../scope.ts';
import type { ValueType } from '../values.ts';
import type { TypedExpr } from './check.ts';
import type { SqlArg, SqlContext } from './functions/types.ts';

/**
 * A checked expression as SQL for one database, every value a parameter. Values are in each database's own
 * representation (docs/rules.md): on SQLite dates and datetimes are text and booleans 0/1; on
 * PostgreSQL decimals are `double precision` inside expressions, so that arithmetic gives exactly the
 * same doubles as SQLite and the in-memory evaluator.
 */
export interface ExpressionSqlContext extends SqlContext {
  /** A column reached from the current row (its links joined by the rule compiler). */
  field(ref: FieldRef): RawBuilder<unknown>;
  variable(name: string, type: ValueType): RawBuilder<unknown>;
  /** The value of a window function for the current row (computed over the whole table). */
  window(node: Extract<TypedExpr, { kind: 'window' }>): RawBuilder<unknown>;
  /** A scalar subquery over a collection, selecting what `select` builds inside it. */
  subquery(
    node: Extract<TypedExpr, { kind: 'aggregate' }>,
    select: (inner: ExpressionSqlContext) => RawBuilder<unknown>,
  ): RawBuilder<unknown>;
}

/** A column as an expression value: PostgreSQL numerics become doubles (see the module comment). */
export function columnAsValue(
  column: RawBuilder<unknown>,
  type: ValueType,
  ctx: SqlContext,
): RawBuilder<unknown> {
  return ctx.kind === 'postgres' && type === 'decimal' ? sql`CAST(${column} AS double precision)` : column;
}

/** A value's SQL as a wider type: an integer as a decimal, a date as a datetime (its midnight UTC). */
export function widenSql(
  value: RawBuilder<unknown>,
  from: ValueType,
  to: ValueType,
  kind: DatabaseKind,
): RawBuilder<unknown> {
  const pg = kind === 'postgres';
  if (from === 'integer' && to === 'decimal')
    return pg ? sql`CAST(${value} AS double precision)` : sql`CAST(${value} AS REAL)`;
  if (from === 'date' && to === 'datetime') {
    return pg ? sql`(CAST(${value} AS timestamp) AT TIME ZONE 'UTC')` : sql`(${value} || ' 00:00:00.000')`;
  }
  return value;
}

/**
 * An ORDER BY key of a window: ascending with empty values last, descending with them first (the same on
 * both databases, and as the in-memory evaluator sorts); text by code point.
 */
export function orderKeySql(
  value: RawBuilder<unknown>,
  type: ValueType,
  desc: boolean,
  kind: DatabaseKind,
): RawBuilder<unknown> {
  const key = kind === 'postgres' && type === 'string' ? sql`${value} COLLATE "C"` : value;
  return desc ? sql`${key} DESC NULLS FIRST` : sql`${key} ASC NULLS LAST`;
}

/** `a <op> b` for a comparison; strings order by code point on PostgreSQL too. */
export function comparisonSql(
  op: '=' | '<>' | '<' | '<=' | '>' | '>=',
  left: RawBuilder<unknown>,
  right: RawBuilder<unknown>,
  operand: ValueType,
  kind: DatabaseKind,
): RawBuilder<unknown> {
  const collate = kind === 'postgres' && operand === 'string' && op !== '=' && op !== '<>';
  return sql`${left} ${sql.raw(op)} ${collate ? sql`${right} COLLATE "C"` : right}`;
}

/**
 * The value an aggregate takes: a plain column as it is stored (PostgreSQL then sums `numeric` exactly,
 * as fast as it can), anything else as an expression.
 */
export function aggregateArg(node: TypedExpr, ctx: ExpressionSqlContext): SqlArg {
  return { sql: node.kind === 'field' ? ctx.field(node.ref) : expressionSql(node, ctx), type: node.type };
}

export function expressionSql(node: TypedExpr, ctx: ExpressionSqlContext): RawBuilder<unknown> {
  const pg = ctx.kind === 'postgres';
  switch (node.kind) {
    case 'literal':
      return node.value === null ? sql`NULL` : ctx.param(node.value, node.type);
    case 'field':
      return columnAsValue(ctx.field(node.ref), node.type, ctx);
    case 'variable':
      return ctx.variable(node.name, node.type);
    case 'widen':
      return widenSql(expressionSql(node.arg, ctx), node.arg.type, node.type, ctx.kind);
    case 'unary': {
      const arg = expressionSql(node.arg, ctx);
      return node.op === 'not' ? sql`(NOT ${arg})` : sql`(- ${arg})`;
    }
    case 'case': {
      const whens = node.whens.map(
        (w) => sql`WHEN ${expressionSql(w.when, ctx)} THEN ${expressionSql(w.then, ctx)}`,
      );
      const otherwise = node.otherwise ? sql` ELSE ${expressionSql(node.otherwise, ctx)}` : sql``;
      return sql`(CASE ${sql.join(whens, sql` `)}${otherwise} END)`;
    }
    case 'call':
      return node.fn.sql(
        node.args.map((a) => ({ sql: expressionSql(a, ctx), type: a.type })),
        ctx,
      );
    case 'window':
      return ctx.window(node);
    case 'aggregate':
      return ctx.subquery(node, (inner) =>
        node.fn.sql(node.value ? aggregateArg(node.value, inner) : undefined, inner),
      );
    case 'binary': {
      const left = expressionSql(node.left, ctx);
      const right = expressionSql(node.right, ctx);
      switch (node.op) {
        case 'and':
          return sql`(${left} AND ${right})`;
        case 'or':
          return sql`(${left} OR ${right})`;
        case '=':
        case '<>':
        case '<':
        case '<=':
        case '>':
        case '>=':
          return sql`(${comparisonSql(node.op, left, right, node.operand, ctx.kind)})`;
        case '+':
          return node.type === 'string' ? sql`(${left} || ${right})` : sql`(${left} + ${right})`;
        case '-':
          return sql`(${left} - ${right})`;
        case '*':
          return sql`(${left} * ${right})`;
        // Division by zero is NULL on both (PostgreSQL would raise an error).
        case '/':
          return pg ? sql`(${left} / NULLIF(${right}, 0))` : sql`(${left} / ${right})`;
        case '%':
          return pg ? sql`mod(${left}, NULLIF(${right}, 0))` : sql`(${left} % ${right})`;
      }
    }
  }
}
