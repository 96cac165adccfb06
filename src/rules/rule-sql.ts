import { sql, type RawBuilder } from 'kysely';
import { UserError } from '../errors.ts';
import { expressionSql, widenSql } from './expression/to-sql.ts';
import { operatorSql } from './operators.ts';
import type { CheckedRule, Operand } from './rule.ts';
import type { SqlScope } from './sql-scope.ts';
import { sqlParam } from './sql-values.ts';
import { widen, type Value, type ValueType } from './values.ts';

/**
 * A checked rule as a SQL condition over its scope's table. Negation is pushed down to the conditions
 * (De Morgan for groups, `except` as AND NOT), and each negated condition is written as the exact
 * complement of its positive form, NULLs included; so no NULL ever sits under a NOT, and the SQL means
 * what the in-memory evaluator computes.
 */
const TRUE = sql`(1 = 1)`;
const FALSE = sql`(1 = 0)`;

export function parameterValue(scope: SqlScope, name: string): Value {
  const value = scope.run.variables[name];
  if (value === undefined || value === null) {
    throw new UserError(
      `The rule's parameter "${name}" has no value; give it one (parameters: { ${name}: … }).`,
    );
  }
  return value;
}

/** A constant compared with a column: on PostgreSQL a decimal is bound as numeric, the column's own type. */
function constant(
  value: Value,
  type: ValueType,
  scope: SqlScope,
  againstColumn: boolean,
): RawBuilder<unknown> {
  if (againstColumn && type === 'decimal' && scope.run.dialect.kind === 'postgres') {
    return sql`CAST(${value} AS numeric)`;
  }
  return sqlParam(scope.run.dialect.kind, value, type);
}

function operandSql(operand: Operand, scope: SqlScope, againstColumn: boolean): RawBuilder<unknown> {
  switch (operand.kind) {
    case 'column':
      return widenSql(
        scope.column(operand.ref),
        operand.ref.column.type,
        operand.type,
        scope.run.dialect.kind,
      );
    case 'value':
      return constant(operand.value, operand.type, scope, againstColumn);
    case 'param':
      return constant(
        widen(parameterValue(scope, operand.name), operand.declared, operand.type),
        operand.type,
        scope,
        againstColumn,
      );
    case 'expr':
      return expressionSql(operand.expr, scope.expressionContext());
    case 'aggregate': {
      const { scope: inner, correlation } = scope.child(operand.collection);
      const value = operand.value
        ? { sql: expressionSql(operand.value, inner.expressionContext()), type: operand.value.type }
        : undefined;
      const aggregate = operand.fn.sql(value, inner.expressionContext());
      const where = operand.where ? sql` AND ${ruleSql(operand.where, inner)}` : sql``;
      return sql`(SELECT ${aggregate} FROM ${inner.from()} WHERE ${correlation}${where})`;
    }
  }
}

function constantValue(operand: Operand, scope: SqlScope): Value | undefined {
  if (operand.kind === 'value') return operand.value;
  if (operand.kind === 'param') return parameterValue(scope, operand.name);
  return undefined;
}

function compareSql(
  rule: Extract<CheckedRule, { kind: 'compare' }>,
  scope: SqlScope,
  negated: boolean,
): RawBuilder<unknown> {
  const plainColumn = rule.left.kind === 'column';
  const left = operandSql(rule.left, scope, false);
  const values = rule.values.map((v) => operandSql(v, scope, plainColumn));
  const pattern = rule.base === 'like' ? (constantValue(rule.values[0]!, scope) as string) : undefined;
  const positive = operatorSql({
    kind: scope.run.dialect.kind,
    base: rule.base,
    left,
    values,
    pattern,
    globPattern: (glob) => sqlParam(scope.run.dialect.kind, glob, 'string'),
    type: rule.type,
  });
  if (!negated) return positive;
  if (rule.base === 'isEmpty') return sql`NOT ${positive}`;
  // With constant values the positive form is NULL only for an empty column: the complement adds those rows.
  if (plainColumn && rule.values.every((v) => v.kind === 'value' || v.kind === 'param')) {
    return sql`(NOT (${positive}) OR ${left} IS NULL)`;
  }
  return sql`NOT COALESCE(${positive}, FALSE)`;
}

export function ruleSql(rule: CheckedRule, scope: SqlScope, negated = false): RawBuilder<unknown> {
  switch (rule.kind) {
    case 'all':
      return negated ? FALSE : TRUE;
    case 'group': {
      const parts = rule.rules.map((r) => ruleSql(r, scope, negated));
      const and = (rule.op === 'and') !== negated;
      return sql`(${sql.join(parts, and ? sql` AND ` : sql` OR `)})`;
    }
    case 'except': {
      // base AND NOT m1 AND NOT m2…, or, negated, NOT base OR m1 OR m2…
      const parts = [
        ruleSql(rule.base, scope, negated),
        ...rule.minus.map((m) => ruleSql(m, scope, !negated)),
      ];
      return sql`(${sql.join(parts, negated ? sql` OR ` : sql` AND `)})`;
    }
    case 'exists': {
      const { scope: inner, correlation } = scope.child(rule.collection);
      const where = rule.where ? sql` AND ${ruleSql(rule.where, inner)}` : sql``;
      const subquery = sql`(SELECT 1 FROM ${inner.from()} WHERE ${correlation}${where})`;
      return rule.negated !== negated ? sql`NOT EXISTS ${subquery}` : sql`EXISTS ${subquery}`;
    }
    case 'compare':
      return compareSql(rule, scope, rule.negated !== negated);
  }
}
