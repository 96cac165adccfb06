import { sql, type RawBuilder } from 'kysely';
import { UserError } from '../errors.ts';
import { aggregateArg, expressionSql, widenSql } from './expression/to-sql.ts';
import { ROUNDING_PLACES } from './expression/functions/aggregate.ts';
import { roundingThreshold } from './expression/functions/decimal-rounding.ts';
import { operatorHolds, operatorSql } from './operators.ts';
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
    case 'param': {
      const column = scope.run.parameterColumns?.[operand.name];
      if (column) return widenSql(column, operand.declared, operand.type, scope.run.dialect.kind);
      return constant(
        widen(parameterValue(scope, operand.name), operand.declared, operand.type),
        operand.type,
        scope,
        againstColumn,
      );
    }
    case 'expr':
      return expressionSql(operand.expr, scope.expressionContext());
    case 'aggregate':
      return aggregateSubquery(operand, scope, false);
  }
}

/** The aggregate of a row's collection as a correlated subquery (`unrounded`: see thresholdsSql). */
export function aggregateSubquery(
  operand: Extract<Operand, { kind: 'aggregate' }>,
  scope: SqlScope,
  unrounded: boolean,
): RawBuilder<unknown> {
  const { scope: inner, correlation } = scope.child(operand.collection);
  const value = operand.value ? aggregateArg(operand.value, inner.expressionContext()) : undefined;
  const aggregate = unrounded
    ? operand.fn.unrounded!(value!)
    : operand.fn.sql(value, inner.expressionContext());
  const where = operand.where ? sql` AND ${ruleSql(operand.where, inner)}` : sql``;
  return sql`(SELECT ${aggregate} FROM ${inner.from()} WHERE ${correlation}${where})`;
}

/**
 * SQLite: whether a comparison of a rounded aggregate (sums of decimals, averages) with constants can
 * compare the unrounded figure with thresholds instead (roundingThreshold): the same rows, without a
 * call of the rounding function for every row or group.
 */
function usesThresholds(
  rule: Compare,
  scope: SqlScope,
): rule is Compare & { left: Extract<Operand, { kind: 'aggregate' }> } {
  const left = rule.left;
  return (
    scope.run.dialect.kind === 'sqlite' &&
    left.kind === 'aggregate' &&
    left.value !== undefined &&
    left.fn.rounds?.(left.value.type) === true &&
    ['eq', 'gt', 'gte', 'lt', 'lte', 'between', 'in'].includes(rule.base) &&
    rule.values.every((v) => isConstant(v, scope))
  );
}

function thresholdsSql(rule: Compare, scope: SqlScope, raw: RawBuilder<unknown>): RawBuilder<unknown> {
  const values = rule.values.map((v) => constantValue(v, scope) as number);
  const at = (value: number, strict: boolean) =>
    sqlParam('sqlite', roundingThreshold(value, ROUNDING_PLACES, strict), 'decimal');
  const interval = (value: number) => sql`(${raw} >= ${at(value, false)} AND ${raw} < ${at(value, true)})`;
  switch (rule.base) {
    case 'gte':
      return sql`${raw} >= ${at(values[0]!, false)}`;
    case 'gt':
      return sql`${raw} >= ${at(values[0]!, true)}`;
    case 'lt':
      return sql`${raw} < ${at(values[0]!, false)}`;
    case 'lte':
      return sql`${raw} < ${at(values[0]!, true)}`;
    case 'between':
      return sql`(${raw} >= ${at(values[0]!, false)} AND ${raw} < ${at(values[1]!, true)})`;
    default:
      return sql`(${sql.join(values.map(interval), sql` OR `)})`;
  }
}

/** A literal, or a parameter bound to a value (not one standing for a column: SqlRunContext.parameterColumns). */
function isConstant(operand: Operand, scope: SqlScope): boolean {
  return (
    operand.kind === 'value' ||
    (operand.kind === 'param' && scope.run.parameterColumns?.[operand.name] === undefined)
  );
}

function constantValue(operand: Operand, scope: SqlScope): Value | undefined {
  if (operand.kind === 'value') return operand.value;
  if (operand.kind === 'param' && isConstant(operand, scope)) return parameterValue(scope, operand.name);
  return undefined;
}

type Compare = Extract<CheckedRule, { kind: 'compare' }>;

/**
 * An aggregate condition over a collection, as a set of keys rather than a subquery per row: the owners
 * whose group of child rows passes (`key IN (SELECT fk … GROUP BY fk HAVING …)`), computed once. Rows
 * with no child rows have the aggregate of an empty collection (0 or empty); when that passes the
 * condition the set is turned around (`key NOT IN` the groups that fail). Used when the values are
 * constants and the link joins on one column of the row itself; otherwise the correlated form is used.
 */
function aggregateByGroupsSql(
  rule: Compare,
  scope: SqlScope,
  negated: boolean,
): RawBuilder<unknown> | undefined {
  const left = rule.left;
  if (left.kind !== 'aggregate' || left.collection.links.length > 0 || left.collection.link.on.length !== 1)
    return undefined;
  if (!rule.values.every((v) => isConstant(v, scope))) return undefined;
  const values = rule.values.map((v) => constantValue(v, scope)!);
  const empty = left.fn.evaluate([], left.value?.type);
  const emptyPasses =
    operatorHolds(rule.base, widen(empty, left.fn.returns(left.value?.type)!, left.type), values) !== negated;
  const { from, to } = left.collection.link.on[0]!;
  const { scope: inner, implicit } = scope.child(left.collection);
  const childKey = sql.ref(`${inner.alias}.${to}`);
  const value = left.value ? aggregateArg(left.value, inner.expressionContext()) : undefined;
  const condition = usesThresholds(rule, scope)
    ? thresholdsSql(rule, scope, left.fn.unrounded!(value!))
    : positiveSql(
        rule,
        scope,
        widenSql(
          left.fn.sql(value, inner.expressionContext()),
          left.fn.returns(left.value?.type)!,
          left.type,
          scope.run.dialect.kind,
        ),
        false,
      );
  // The groups that pass (or, turned around, that fail); a NULL aggregate fails, as it does row by row.
  const passes =
    negated !== emptyPasses ? sql`NOT COALESCE(${condition}, FALSE)` : sql`COALESCE(${condition}, FALSE)`;
  const filters = [implicit, left.where && ruleSql(left.where, inner)].flatMap((c) =>
    c ? [sql` AND ${c}`] : [],
  );
  const groups = sql`SELECT ${childKey} FROM ${inner.from()} WHERE ${childKey} IS NOT NULL${sql.join(filters, sql``)} GROUP BY ${childKey} HAVING ${passes}`;
  const key = scope.ownerKey(left.collection.link, scope.alias, from);
  return emptyPasses ? sql`(${key} IS NULL OR ${key} NOT IN (${groups}))` : sql`${key} IN (${groups})`;
}

/**
 * exists / notExists over a system link as a set of recipients computed once (`key IN (SELECT recipient
 * …)`): no index of the message ledger starts with the recipient, so a subquery per row would scan
 * the ledger for every row. True or false, never NULL.
 */
function existsBySetSql(
  rule: Extract<CheckedRule, { kind: 'exists' }>,
  scope: SqlScope,
  positive: boolean,
): RawBuilder<unknown> {
  const { link } = rule.collection;
  const { from, to } = link.on[0]!;
  const { scope: inner, implicit } = scope.child(rule.collection);
  const childKey = sql.ref(`${inner.alias}.${to}`);
  const filters = [implicit, rule.where && ruleSql(rule.where, inner)].flatMap((c) =>
    c ? [sql` AND ${c}`] : [],
  );
  const keys = sql`SELECT ${childKey} FROM ${inner.from()} WHERE ${childKey} IS NOT NULL${sql.join(filters, sql``)}`;
  const key = scope.ownerKey(link, scope.aliasFor(rule.collection.links), from);
  return positive
    ? sql`(${key} IS NOT NULL AND ${key} IN (${keys}))`
    : sql`(${key} IS NULL OR ${key} NOT IN (${keys}))`;
}

/** The comparison's positive form, NULL when the left side is NULL. */
function positiveSql(
  rule: Compare,
  scope: SqlScope,
  left: RawBuilder<unknown>,
  againstColumn: boolean,
): RawBuilder<unknown> {
  // SQLite matches `like` with GLOB, whose pattern is rewritten from the literal one before binding.
  if (rule.base === 'like' && !isConstant(rule.values[0]!, scope))
    throw new UserError(`like takes a fixed pattern; a parameter standing for a column cannot be one`);
  return operatorSql({
    kind: scope.run.dialect.kind,
    base: rule.base,
    left,
    values: rule.values.map((v) => operandSql(v, scope, againstColumn)),
    pattern: rule.base === 'like' ? (constantValue(rule.values[0]!, scope) as string) : undefined,
    globPattern: (glob) => sqlParam(scope.run.dialect.kind, glob, 'string'),
    type: rule.type,
  });
}

function compareSql(rule: Compare, scope: SqlScope, negated: boolean): RawBuilder<unknown> {
  const byGroups = aggregateByGroupsSql(rule, scope, negated);
  if (byGroups) return byGroups;
  const plainColumn = rule.left.kind === 'column';
  const thresholds = usesThresholds(rule, scope);
  const left = thresholds ? aggregateSubquery(rule.left, scope, true) : operandSql(rule.left, scope, false);
  const positive = thresholds
    ? thresholdsSql(rule, scope, left)
    : positiveSql(rule, scope, left, plainColumn);
  if (!negated) return positive;
  if (rule.base === 'isEmpty') return sql`NOT ${positive}`;
  // With constant values the positive form is NULL only for an empty column: the complement adds those rows.
  if (plainColumn && rule.values.every((v) => isConstant(v, scope))) {
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
      if (rule.collection.link.system) return existsBySetSql(rule, scope, rule.negated === negated);
      const { scope: inner, correlation } = scope.child(rule.collection);
      const where = rule.where ? sql` AND ${ruleSql(rule.where, inner)}` : sql``;
      const subquery = sql`(SELECT 1 FROM ${inner.from()} WHERE ${correlation}${where})`;
      return rule.negated !== negated ? sql`NOT EXISTS ${subquery}` : sql`EXISTS ${subquery}`;
    }
    case 'compare':
      return compareSql(rule, scope, rule.negated !== negated);
  }
}
