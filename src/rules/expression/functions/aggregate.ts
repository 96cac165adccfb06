import { sql, type RawBuilder } from 'kysely';
import { compareValues as compare, isNumeric, type Value, type ValueType } from '../../values.ts';
import type { SqlArg, SqlContext } from './types.ts';

/**
 * Aggregates over the rows of a one-to-many link (a collection), used by rule `aggregate` conditions and
 * by aggregate calls in expressions (`Sum(purchases.amount)`). Over an empty collection `count`,
 * `countDistinct` and `sum` are 0, the others NULL. Sums and averages of decimals, and averages, are
 * rounded to 6 decimal places: summing doubles in a different order (SQLite, the in-memory evaluator)
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
  sql(value: SqlArg | undefined, ctx: SqlContext): RawBuilder<unknown>;
  /** The aggregate of the collection's values (all rows' values, NULLs included). */
  evaluate(values: Value[], type: ValueType | undefined): Value;
}

const DECIMALS = 6;

/** Half away from zero at `digits` places, on the value's 15-significant-digit decimal form, as SQL does. */
export function roundDecimal(value: number, digits: number): number {
  if (!Number.isFinite(value)) return value;
  const text = Math.abs(value).toPrecision(15);
  const [mantissa, exponent] = text.split('e') as [string, string | undefined];
  const [whole, fraction = ''] = mantissa.split('.') as [string, string | undefined];
  let digitsText = whole + fraction;
  let point = whole.length + Number(exponent ?? 0);
  if (point < 0) {
    digitsText = '0'.repeat(-point) + digitsText;
    point = 0;
  }
  const keep = point + digits;
  if (keep < 0) return 0;
  let kept = digitsText.slice(0, keep).padEnd(keep, '0');
  if ((digitsText[keep] ?? '0') >= '5') {
    // Add one unit in the last kept place.
    const incremented = (BigInt(kept || '0') + 1n).toString().padStart(kept.length, '0');
    if (incremented.length > kept.length) point++;
    kept = incremented;
  }
  const result = Number(`${kept.slice(0, point) || '0'}.${kept.slice(point) || '0'}`);
  return value < 0 && result !== 0 ? -result : result;
}

function nonNull(values: Value[]): Array<Exclude<Value, null>> {
  return values.filter((v): v is Exclude<Value, null> => v !== null);
}

/** A rounded SQL figure: numeric on PostgreSQL (exact), REAL on SQLite. */
function rounded(value: RawBuilder<unknown>, ctx: SqlContext): RawBuilder<unknown> {
  return ctx.kind === 'postgres'
    ? sql`CAST(round(CAST(${value} AS numeric), ${sql.lit(DECIMALS)}) AS double precision)`
    : sql`round(${value}, ${sql.lit(DECIMALS)})`;
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
    sql: (value) => (value ? sql`count(${value.sql})` : sql`count(*)`),
    evaluate: (values, type) => (type === undefined ? values.length : nonNull(values).length),
  },
  countDistinct: {
    name: 'countDistinct',
    functionName: 'CountDistinct',
    summary: 'the number of distinct non-empty values',
    needsValue: true,
    returns: (type) => (type === undefined ? undefined : 'integer'),
    sql: (value) => sql`count(DISTINCT ${value!.sql})`,
    evaluate: (values) => new Set(nonNull(values)).size,
  },
  sum: {
    name: 'sum',
    functionName: 'Sum',
    summary: 'the sum of the values (0 when there are none)',
    needsValue: true,
    returns: (type) => (type !== undefined && isNumeric(type) ? type : undefined),
    sql: (value, ctx) =>
      value!.type === 'integer'
        ? ctx.kind === 'postgres'
          ? sql`CAST(coalesce(sum(${value!.sql}), 0) AS bigint)`
          : sql`coalesce(sum(${value!.sql}), 0)`
        : rounded(sql`coalesce(sum(${value!.sql}), 0)`, ctx),
    evaluate: (values, type) => {
      const sum = nonNull(values).reduce<number>((total, v) => total + (v as number), 0);
      return type === 'integer' ? sum : roundDecimal(sum, DECIMALS);
    },
  },
  avg: {
    name: 'avg',
    functionName: 'Avg',
    summary: 'the average of the values (empty when there are none)',
    needsValue: true,
    returns: (type) => (type !== undefined && isNumeric(type) ? 'decimal' : undefined),
    sql: (value, ctx) => rounded(sql`avg(${value!.sql})`, ctx),
    evaluate: (values) => {
      const present = nonNull(values) as number[];
      if (present.length === 0) return null;
      return roundDecimal(present.reduce((a, b) => a + b, 0) / present.length, DECIMALS);
    },
  },
  min: {
    name: 'min',
    functionName: 'Min',
    summary: 'the smallest value (empty when there are none)',
    needsValue: true,
    returns: orderable,
    sql: (value, ctx) => minMax('min', value!, ctx),
    evaluate: (values) =>
      nonNull(values).reduce<Value>((m, v) => (m === null || compare(v, m) < 0 ? v : m), null),
  },
  max: {
    name: 'max',
    functionName: 'Max',
    summary: 'the largest value (empty when there are none)',
    needsValue: true,
    returns: orderable,
    sql: (value, ctx) => minMax('max', value!, ctx),
    evaluate: (values) =>
      nonNull(values).reduce<Value>((m, v) => (m === null || compare(v, m) > 0 ? v : m), null),
  },
};

/** Strings order by code point on both databases (PostgreSQL's `C` collation, SQLite's binary one). */
function minMax(fn: 'min' | 'max', value: SqlArg, ctx: SqlContext): RawBuilder<unknown> {
  const arg = ctx.kind === 'postgres' && value.type === 'string' ? sql`${value.sql} COLLATE "C"` : value.sql;
  return fn === 'min' ? sql`min(${arg})` : sql`max(${arg})`;
}

export function aggregateByFunctionName(name: string): AggregateDef | undefined {
  const lower = name.toLowerCase();
  return Object.values(AGGREGATE_DEFS).find((a) => a.functionName.toLowerCase() === lower);
}
