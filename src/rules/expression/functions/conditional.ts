import { sql, type RawBuilder } from 'kysely';
import { comparisonType, compareValues, widen, type Value, type ValueType } from '../../values.ts';
import { widenSql } from '../to-sql.ts';
import type { FunctionDef, SqlArg, SqlContext, SqliteUdf } from './types.ts';

/**
 * Choosing between values, and replacing NULLs (docs/functions/conditional.md). These functions look at
 * NULL rather than propagating it. Their value parameters are `any`, so the checker widens nothing: each
 * function works out the one type its result arguments share (integer with decimal is a decimal, date with
 * datetime a datetime) and widens the chosen argument itself, in SQL — PostgreSQL wants every branch of a
 * CASE of one type — and in memory alike. Arguments that cannot share a type refuse the call.
 */

/** The type all of `types` fit in, or undefined when two of them cannot be combined. */
function commonType(types: ValueType[]): ValueType | undefined {
  let common: ValueType | undefined = 'null';
  for (const type of types) {
    common = comparisonType(common, type);
    if (common === undefined) return undefined;
  }
  return common;
}

/** The arguments' SQL, all as their common type (which the signature has made sure exists). */
function unifiedSql(args: SqlArg[], ctx: SqlContext): RawBuilder<unknown>[] {
  const type = commonType(args.map((a) => a.type))!;
  return args.map((a) => widenSql(a.sql, a.type, type, ctx.kind));
}

/** Argument `index` as the common type of the arguments at `among` (the call's result arguments). */
function chosen(args: Value[], types: ValueType[], index: number, among: number[]): Value {
  const type = commonType(among.map((i) => types[i]!))!;
  return widen(args[index]!, types[index]!, type);
}

const range = (from: number, to: number) => Array.from({ length: to - from }, (_, i) => from + i);

/** SQL's `=`: NULL on either side is not equal. Both values are of one comparison type. */
function equal(a: Value, b: Value): boolean {
  return a !== null && b !== null && compareValues(a, b) === 0;
}

/**
 * `Decode(v, when1, then1, …, whenN, thenN, else)`: the indexes of the values compared with `v` (v first)
 * and of the results (the thens, then the else). An even number of arguments, at least four.
 */
function decodeLayout(count: number): { matched: number[]; results: number[] } {
  const pairs = range(0, (count - 2) / 2);
  return {
    matched: [0, ...pairs.map((p) => 1 + 2 * p)],
    results: [...pairs.map((p) => 2 + 2 * p), count - 1],
  };
}

/** What NoNull gives for NULL: the type's zero (for dates and datetimes, the Unix epoch). */
const EMPTY_VALUES: Record<Exclude<ValueType, 'null'>, Exclude<Value, null>> = {
  string: '',
  integer: 0,
  decimal: 0,
  boolean: false,
  date: '1970-01-01',
  datetime: 0,
};

/** The words ToBoolean reads, after trimming and lower-casing. */
const BOOLEAN_WORDS = new Map<string, boolean>([
  ['true', true],
  ['1', true],
  ['yes', true],
  ['false', false],
  ['0', false],
  ['no', false],
]);

/** The characters ToBoolean trims: SQLite's trim() and PostgreSQL's btrim() are given exactly these. */
const BLANKS = ' \t\n\r';
const SURROUNDING_BLANKS = /^[ \t\n\r]+|[ \t\n\r]+$/g;

function stringToBoolean(text: string): boolean | null {
  // Lower-casing differs beyond ASCII (SQLite's lower() is ASCII-only), but no non-ASCII character
  // lower-cases to a letter of these words, so a word matches the same way everywhere.
  return BOOLEAN_WORDS.get(text.replace(SURROUNDING_BLANKS, '').toLowerCase()) ?? null;
}

export const CONDITIONAL_FUNCTIONS: FunctionDef[] = [
  {
    name: 'Iif',
    category: 'conditional',
    summary:
      'the second argument when the condition is true, else the third (also when the condition is empty)',
    example: "Iif(opted_in_email, 'email', 'none')",
    signatures: [{ params: ['boolean', 'any', 'any'], returns: (types) => commonType(types.slice(1)) }],
    nullPropagating: false,
    sql: ([condition, ...results], ctx) => {
      const [then, otherwise] = unifiedSql(results, ctx);
      return sql`(CASE WHEN ${condition!.sql} THEN ${then} ELSE ${otherwise} END)`;
    },
    evaluate: (args, _ctx, types) => chosen(args, types, args[0] === true ? 1 : 2, [1, 2]),
  },
  {
    name: 'Coalesce',
    category: 'conditional',
    summary: 'the first of its arguments that is not empty (empty when all are)',
    example: 'Coalesce(phone, email)',
    signatures: [{ params: ['any', 'any'], variadic: true, returns: commonType }],
    nullPropagating: false,
    sql: (args, ctx) => sql`coalesce(${sql.join(unifiedSql(args, ctx))})`,
    evaluate: (args, _ctx, types) => {
      const index = args.findIndex((a) => a !== null);
      return index < 0 ? null : chosen(args, types, index, range(0, args.length));
    },
  },
  {
    name: 'NoNull',
    category: 'conditional',
    summary: "the value, or its type's zero when it is empty ('', 0, false, 1970-01-01)",
    example: 'NoNull(city)',
    // The NULL literal has no type, so no zero to give.
    signatures: [{ params: ['any'], returns: ([type]) => (type === 'null' ? undefined : type) }],
    nullPropagating: false,
    sql: ([arg], ctx) => {
      const type = arg!.type as Exclude<ValueType, 'null'>;
      return sql`coalesce(${arg!.sql}, ${ctx.param(EMPTY_VALUES[type], type)})`;
    },
    evaluate: ([value], _ctx, [type]) => value ?? EMPTY_VALUES[type as Exclude<ValueType, 'null'>],
  },
  {
    name: 'IsEmptyString',
    category: 'conditional',
    summary: "the second argument when the string is empty or '', else the third",
    example: "IsEmptyString(first_name, 'customer', first_name)",
    signatures: [{ params: ['string', 'any', 'any'], returns: (types) => commonType(types.slice(1)) }],
    nullPropagating: false,
    sql: ([text, ...results], ctx) => {
      const [then, otherwise] = unifiedSql(results, ctx);
      return sql`(CASE WHEN coalesce(${text!.sql}, '') = '' THEN ${then} ELSE ${otherwise} END)`;
    },
    evaluate: (args, _ctx, types) => chosen(args, types, args[0] === null || args[0] === '' ? 1 : 2, [1, 2]),
  },
  {
    name: 'Decode',
    category: 'conditional',
    summary: 'the result paired with the first value equal to the first argument, else the last argument',
    example: "Decode(loyalty, 'gold', 20, 'silver', 10, 0)",
    signatures: [
      {
        params: ['any', 'any', 'any', 'any'],
        variadic: true,
        returns: (types) => {
          if (types.length % 2 !== 0) return undefined;
          const { matched, results } = decodeLayout(types.length);
          if (commonType(matched.map((i) => types[i]!)) === undefined) return undefined;
          return commonType(results.map((i) => types[i]!));
        },
      },
    ],
    nullPropagating: false,
    sql: (args, ctx) => {
      const { matched, results } = decodeLayout(args.length);
      const [subject, ...whens] = unifiedSql(
        matched.map((i) => args[i]!),
        ctx,
      );
      const values = unifiedSql(
        results.map((i) => args[i]!),
        ctx,
      );
      const otherwise = values.pop()!;
      const branches = whens.map((when, p) => sql`WHEN ${when} THEN ${values[p]!}`);
      return sql`(CASE ${subject!} ${sql.join(branches, sql` `)} ELSE ${otherwise} END)`;
    },
    evaluate: (args, _ctx, types) => {
      const { matched, results } = decodeLayout(args.length);
      const [subject, ...whens] = matched.map((i) => chosen(args, types, i, matched));
      const hit = whens.findIndex((when) => equal(subject!, when));
      return chosen(args, types, hit < 0 ? args.length - 1 : results[hit]!, results);
    },
  },
  {
    name: 'IfEquals',
    category: 'conditional',
    summary: 'the third argument when the first two are equal, else the fourth (also when one is empty)',
    example: "IfEquals(store.region, 'North', 'local', 'remote')",
    signatures: [
      {
        params: ['any', 'any', 'any', 'any'],
        returns: ([a, b, ...results]) =>
          comparisonType(a!, b!) === undefined ? undefined : commonType(results),
      },
    ],
    nullPropagating: false,
    sql: ([a, b, ...results], ctx) => {
      const [left, right] = unifiedSql([a!, b!], ctx);
      const [then, otherwise] = unifiedSql(results, ctx);
      return sql`(CASE WHEN ${left} = ${right} THEN ${then} ELSE ${otherwise} END)`;
    },
    evaluate: (args, _ctx, types) => {
      const same = equal(chosen(args, types, 0, [0, 1]), chosen(args, types, 1, [0, 1]));
      return chosen(args, types, same ? 2 : 3, [2, 3]);
    },
  },
  {
    name: 'ToBoolean',
    category: 'conditional',
    summary:
      "the value as a boolean: a number is true unless 0, a string 'true'/'yes'/'1' or 'false'/'no'/'0'",
    example: 'ToBoolean(Count(purchases))',
    signatures: [
      { params: ['number'], returns: 'boolean' },
      { params: ['string'], returns: 'boolean' },
      { params: ['boolean'], returns: 'boolean' },
    ],
    sql: ([arg], ctx) => {
      const { type, sql: value } = arg!;
      if (type === 'boolean') return value;
      // A number, or the NULL literal: NULL <> 0 is NULL, as a NULL argument gives.
      if (type !== 'string') return sql`(${value} <> 0)`;
      const trimmed =
        ctx.kind === 'postgres'
          ? sql`btrim(${value}, ${ctx.param(BLANKS, 'string')})`
          : sql`trim(${value}, ${ctx.param(BLANKS, 'string')})`;
      const words = [...BOOLEAN_WORDS].map(
        ([word, meaning]) => sql`WHEN ${sql.lit(word)} THEN ${meaning ? sql`TRUE` : sql`FALSE`}`,
      );
      return sql`(CASE lower(${trimmed}) ${sql.join(words, sql` `)} END)`;
    },
    evaluate: ([value]) => {
      if (typeof value === 'string') return stringToBoolean(value);
      return typeof value === 'number' ? value !== 0 : value!;
    },
  },
];

export const CONDITIONAL_SQLITE_UDFS: SqliteUdf[] = [];
