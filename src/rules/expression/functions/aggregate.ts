import { sql, type RawBuilder } from 'kysely';
import { compareValues as compare, isNumeric, type Value, type ValueType } from '../../values.ts';
import { roundDecimalAt } from './decimal-rounding.ts';
import type { SqlArg, SqlContext } from './types.ts';

/**
 * Aggregates over the rows of a one-to-many link (a collection), used by rule `aggregate` conditions and
 * by aggregate calls in expressions (`Sum(purchases.amount)`). Over an empty collection `count`,
 * `countDistinct` and `sum` are 0, the others NULL. Sums of decimals and averages are rounded to 6
 * decimal places: summing doubles in a different order (SQLite, the in-memory evaluator)
 * or exactly (PostgreSQL numeric) then gives the same figure.
 */
export const AGGREGATES = ['count', 'countDistinct', 'sum', 'avg', 'min', 'max'] as const;
export type AggregateName = (typeof AGGREGATES)[number];

export interface AggregateDef {
  name: AggregateName;
  /** The expression function's spelling: `Sum(purchases.amount)`. */
  functionName: string;
  summary: string;
  /** False when the aggregate counts rows and needs no value (`count`). */
  needsValue: boolean;
  /** The result type for a value of `type`, or undefined when the aggregate does not apply to it. */
  returns(type: ValueType | undefined): ValueType | undefined;
  /**
   * The aggregate as SQL; `over` (a window clause, ` OVER (…)`) makes it a window aggregate computed for
   * every row of the partition instead of a group.
   */
  sql(value: SqlArg | undefined, ctx: SqlContext, over?: RawBuilder<unknown>): RawBuilder<unknown>;
  /** Whether the result of a value of `type` is rounded to ROUNDING_PLACES (sums of decimals, averages). */
  rounds?(type: ValueType): boolean;
  /**
   * For rounded results: the figure before rounding, so that a comparison with a constant can move the
   * rounding onto the constant (roundingThreshold).
   */
  unrounded?(value: SqlArg): RawBuilder<unknown>;
  /** The aggregate of the collection's values (all rows' values, NULLs included). */
  evaluate(values: Value[], type: ValueType | undefined): Value;
}

export const ROUNDING_PLACES = 6;
const DECIMALS = ROUNDING_PLACES;

function nonNull(values: Value[]): Array<Exclude<Value, null>> {
  return values.filter((v): v is Exclude<Value, null> => v !== null);
}

/**
 * A figure rounded to DECIMALS places as the in-memory evaluator rounds it: the double's 15-significant-
 * digit form, rounded half away from zero. On PostgreSQL an `exact` figure (the sum of a `numeric`
 * column) is rounded as it is, which is the same for any sum of up to 15 digits and cheaper; others go
 * through a double and `numeric` (its cast keeps 15 digits). SQLite calls the evaluator's own code (its
 * round() breaks some ties differently).
 */
function rounded(value: RawBuilder<unknown>, ctx: SqlContext, exact: boolean): RawBuilder<unknown> {
  if (ctx.kind === 'sqlite') return sql`baton_round(${value}, ${sql.lit(DECIMALS)}, 'round')`;
  return exact
    ? sql`round(CAST(${value} AS numeric), ${sql.lit(DECIMALS)})`
    : sql`CAST(round(CAST(CAST(${value} AS double precision) AS numeric), ${sql.lit(DECIMALS)}) AS double precision)`;
}

const orderable = (type: ValueType | undefined) =>
  type === undefined || type === 'boolean' ? undefined : type;

export const AGGREGATE_DEFS: Record<AggregateName, AggregateDef> = {
  count: {
    name: 'count',
    functionName: 'Count',
    summary: 'the number of rows of the collection (or of its non-empty values of a column)',
    needsValue: false,
    returns: () => 'integer',
    sql: (value, _ctx, over = sql``) => (value ? sql`count(${value.sql})${over}` : sql`count(*)${over}`),
    evaluate: (values, type) => (type === undefined ? values.length : nonNull(values).length),
  },
  countDistinct: {
    name: 'countDistinct',
    functionName: 'CountDistinct',
    summary: 'the number of distinct non-empty values',
    needsValue: true,
    returns: (type) => (type === undefined ? undefined : 'integer'),
    sql: (value, _ctx, over = sql``) => sql`count(DISTINCT ${value!.sql})${over}`,
    evaluate: (values) => new Set(nonNull(values)).size,
  },
  sum: {
    name: 'sum',
    functionName: 'Sum',
    summary: 'the sum of the values (0 when there are none)',
    needsValue: true,
    returns: (type) => (type !== undefined && isNumeric(type) ? type : undefined),
    sql: (value, ctx, over = sql``) => {
      const sum = sql`coalesce(sum(${value!.sql})${over}, 0)`;
      if (value!.type !== 'integer') return rounded(sum, ctx, true);
      return ctx.kind === 'postgres' ? sql`CAST(${sum} AS bigint)` : sum;
    },
    rounds: (type) => type !== 'integer',
    unrounded: (value) => sql`coalesce(sum(${value.sql}), 0)`,
    evaluate: (values, type) => {
      const sum = nonNull(values).reduce<number>((total, v) => total + (v as number), 0);
      return type === 'integer' ? sum : roundDecimalAt(sum, DECIMALS, 'round');
    },
  },
  avg: {
    name: 'avg',
    functionName: 'Avg',
    summary: 'the average of the values (empty when there are none)',
    needsValue: true,
    returns: (type) => (type !== undefined && isNumeric(type) ? 'decimal' : undefined),
    sql: (value, ctx, over = sql``) => rounded(sql`avg(${value!.sql})${over}`, ctx, false),
    rounds: () => true,
    unrounded: (value) => sql`avg(${value.sql})`,
    evaluate: (values) => {
      const present = nonNull(values) as number[];
      if (present.length === 0) return null;
      return roundDecimalAt(present.reduce((a, b) => a + b, 0) / present.length, DECIMALS, 'round');
    },
  },
  min: {
    name: 'min',
    functionName: 'Min',
    summary: 'the smallest value (empty when there are none)',
    needsValue: true,
    returns: orderable,
    sql: (value, ctx, over = sql``) => sql`min(${collated(value!, ctx)})${over}`,
    evaluate: (values) =>
      nonNull(values).reduce<Value>((m, v) => (m === null || compare(v, m) < 0 ? v : m), null),
  },
  max: {
    name: 'max',
    functionName: 'Max',
    summary: 'the largest value (empty when there are none)',
    needsValue: true,
    returns: orderable,
    sql: (value, ctx, over = sql``) => sql`max(${collated(value!, ctx)})${over}`,
    evaluate: (values) =>
      nonNull(values).reduce<Value>((m, v) => (m === null || compare(v, m) > 0 ? v : m), null),
  },
};

/** Strings order by code point on both databases (PostgreSQL's `C` collation, SQLite's binary one). */
function collated(value: SqlArg, ctx: SqlContext): RawBuilder<unknown> {
  return ctx.kind === 'postgres' && value.type === 'string' ? sql`${value.sql} COLLATE "C"` : value.sql;
}

export function aggregateByFunctionName(name: string): AggregateDef | undefined {
  const lower = name.toLowerCase();
  return Object.values(AGGREGATE_DEFS).find((a) => a.functionName.toLowerCase() === lower);
}
