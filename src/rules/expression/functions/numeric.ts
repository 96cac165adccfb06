import { sql, type RawBuilder } from 'kysely';
import type { Value, ValueType } from '../../values.ts';
import { clampPlaces, decimalForm, PLACES_LIMIT, roundDecimalAt, type Rounding } from './decimal-rounding.ts';
import type { FunctionDef, Signature, SqlArg, SqlContext, SqliteUdf } from './types.ts';

/**
 * Numeric functions. Rounding (Round, Trunc, Ceil, Floor, ToInteger of a decimal) and Mod of decimals
 * work on a decimal's 15-significant-digit form, the way PostgreSQL casts a double to `numeric`: the
 * binary noise of 0.29 * 100 = 28.999999999999996 then counts as 29, as a marketer reads it. PostgreSQL
 * computes them exactly in `numeric`; SQLite calls the same JavaScript as the in-memory evaluator
 * (`baton_*` functions below), because its own round() and text-to-REAL conversion do not agree. Whole
 * results are integers only within ±(2^53 − 1), the range of the integer type; beyond it they are NULL.
 */

const MAX_INTEGER = Number.MAX_SAFE_INTEGER;

/** What surrounds a number in text that ToInteger and ToDouble accept. */
const SPACE = '[ \\t\\r\\n]*';
const WHOLE_TEXT = `^${SPACE}[+-]?[0-9]+${SPACE}$`;
const DECIMAL_TEXT = `^${SPACE}[+-]?([0-9]+[.]?[0-9]*|[.][0-9]+)${SPACE}$`;

/**
 * Longer decimal texts (trimmed) are NULL: PostgreSQL refuses to convert numbers beyond the double range,
 * and 300 characters cannot reach it.
 */
const DECIMAL_TEXT_LIMIT = 300;

const EARTH_DIAMETER_KM = 2 * 6371;
/** The double PostgreSQL's radians() multiplies by (π / 180 rounded once). */
const RADIANS_PER_DEGREE = Math.PI / 180;
const DISTANCE_PLACES = 6;

/** A whole double as an integer value: NULL beyond the integer range, never -0. */
function integerResult(value: number): number | null {
  return Math.abs(value) <= MAX_INTEGER ? value + 0 : null;
}

/** A decimal to a whole number by `rounding`, on its 15-digit form. */
function decimalToInteger(value: number, rounding: Rounding): number | null {
  return integerResult(roundDecimalAt(value, 0, rounding));
}

/** An integer rounded at `places` (only negative places change it), exactly. */
function roundIntegerAt(value: number, places: number, rounding: 'round' | 'trunc'): number | null {
  if (places >= 0) return value;
  const unit = 10n ** BigInt(-clampPlaces(places));
  const n = BigInt(value);
  const remainder = n % unit;
  let quotient = n / unit;
  const magnitude = remainder < 0n ? -remainder : remainder;
  if (rounding === 'round' && 2n * magnitude >= unit) quotient += n < 0n ? -1n : 1n;
  return integerResult(Number(quotient * unit));
}

/** `value = digits × 10^scale`, from the 15-digit form. */
function decimalParts(value: number): { digits: bigint; scale: number } {
  const [mantissa = '', exponent = ''] = decimalForm(value).split('e');
  return { digits: BigInt(mantissa.replace('.', '')), scale: Number(exponent) - 14 };
}

/** The remainder of a / b with the sign of a, exact on both 15-digit forms; NULL when b is 0. */
function decimalMod(a: number, b: number): number | null {
  const x = decimalParts(a);
  const y = decimalParts(b);
  if (y.digits === 0n) return null;
  const scale = Math.min(x.scale, y.scale);
  const remainder = (x.digits * 10n ** BigInt(x.scale - scale)) % (y.digits * 10n ** BigInt(y.scale - scale));
  return Number(`${remainder.toString()}e${scale}`) + 0;
}

/** Great-circle distance in km (haversine), NULL for coordinates off the globe, rounded to 6 places. */
function distanceKm(lonA: number, latA: number, lonB: number, latB: number): number | null {
  if (Math.abs(latA) > 90 || Math.abs(latB) > 90 || Math.abs(lonA) > 180 || Math.abs(lonB) > 180) return null;
  // Same operations in the same order as the PostgreSQL expression in distanceSql.
  const halfLat = Math.sin(((latB - latA) * RADIANS_PER_DEGREE) / 2);
  const halfLon = Math.sin(((lonB - lonA) * RADIANS_PER_DEGREE) / 2);
  const h =
    halfLat * halfLat +
    Math.cos(latA * RADIANS_PER_DEGREE) * Math.cos(latB * RADIANS_PER_DEGREE) * halfLon * halfLon;
  return roundDecimalAt(EARTH_DIAMETER_KM * Math.asin(Math.min(1, Math.sqrt(h))), DISTANCE_PLACES, 'round');
}

function parseWhole(text: string): number | null {
  return new RegExp(WHOLE_TEXT).test(text) ? integerResult(Number(text)) : null;
}

function parseDecimal(text: string): number | null {
  if (!new RegExp(DECIMAL_TEXT).test(text)) return null;
  const trimmed = text.replace(/^[ \t\r\n]+|[ \t\r\n]+$/g, '');
  return trimmed.length <= DECIMAL_TEXT_LIMIT ? Number(trimmed) + 0 : null;
}

// ---------------------------------------------------------------------------------------------------
// SQLite functions.

type SqliteValue = string | number | bigint | null;

/**
 * SQL calls these on every row, NULLs included: NULL in, NULL out. better-sqlite3 registers a function
 * with as many arguments as its `length`, which a rest-parameter wrapper would lose.
 */
function nullSafe<A extends Array<string | number>>(
  fn: (...args: A) => SqliteValue,
): (...args: { [K in keyof A]: A[K] | null }) => SqliteValue {
  const wrapper = (...args: { [K in keyof A]: A[K] | null }) =>
    args.includes(null) ? null : fn(...(args as A));
  return Object.defineProperty(wrapper, 'length', { value: fn.length });
}

/** Integer results go back as INTEGER, so SQLite arithmetic on them stays integer arithmetic. */
function asSqliteInteger(value: number | null): bigint | null {
  return value === null ? null : BigInt(value);
}

export const NUMERIC_SQLITE_UDFS: SqliteUdf[] = [
  {
    name: 'baton_round',
    fn: nullSafe((value: number, places: number, rounding: string) =>
      roundDecimalAt(value, places, rounding as Rounding),
    ),
  },
  {
    name: 'baton_round_integer',
    fn: nullSafe((value: number, places: number, rounding: string) =>
      asSqliteInteger(roundIntegerAt(value, places, rounding as 'round' | 'trunc')),
    ),
  },
  {
    name: 'baton_integer',
    fn: nullSafe((value: number, rounding: string) =>
      asSqliteInteger(decimalToInteger(value, rounding as Rounding)),
    ),
  },
  { name: 'baton_mod', fn: nullSafe(decimalMod) },
  { name: 'baton_distance', fn: nullSafe(distanceKm) },
  { name: 'baton_to_integer', fn: nullSafe((text: string) => asSqliteInteger(parseWhole(text))) },
  { name: 'baton_to_double', fn: nullSafe(parseDecimal) },
];

// ---------------------------------------------------------------------------------------------------
// SQL.

const isPg = (ctx: SqlContext) => ctx.kind === 'postgres';

/** An argument as a decimal in SQL (an integer given to a `number` parameter is still an integer). */
function decimalSql(arg: SqlArg, ctx: SqlContext): RawBuilder<unknown> {
  if (arg.type !== 'integer') return arg.sql;
  return isPg(ctx) ? sql`CAST(${arg.sql} AS double precision)` : sql`CAST(${arg.sql} AS REAL)`;
}

/** A whole PostgreSQL numeric as an integer value, NULL beyond the integer range. */
function pgInteger(value: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`(CASE WHEN abs(${value}) <= ${sql.lit(MAX_INTEGER)} THEN CAST(${value} AS bigint) END)`;
}

function pgPlaces(places: RawBuilder<unknown>): RawBuilder<unknown> {
  return sql`CAST(least(greatest(${places}, ${sql.lit(-PLACES_LIMIT)}), ${sql.lit(PLACES_LIMIT)}) AS integer)`;
}

/** Round, Trunc, Ceil and Floor: a whole number, or a number of the argument's type with places. */
function roundingSql(rounding: Rounding, [value, places]: SqlArg[], ctx: SqlContext): RawBuilder<unknown> {
  const x = value!.sql;
  const mode = sql.lit(rounding);
  if (value!.type === 'integer') {
    if (!places) return x;
    return isPg(ctx)
      ? pgInteger(sql`${sql.raw(rounding)}(CAST(${x} AS numeric), ${pgPlaces(places.sql)})`)
      : sql`baton_round_integer(${x}, ${places.sql}, ${mode})`;
  }
  if (!places) {
    return isPg(ctx)
      ? pgInteger(sql`${sql.raw(rounding)}(CAST(${x} AS numeric))`)
      : sql`baton_integer(${x}, ${mode})`;
  }
  return isPg(ctx)
    ? sql`CAST(${sql.raw(rounding)}(CAST(${x} AS numeric), ${pgPlaces(places.sql)}) AS double precision)`
    : sql`baton_round(${x}, ${places.sql}, ${mode})`;
}

function roundingEvaluate(rounding: Rounding, [value, places]: Value[], types: ValueType[]): Value {
  const x = value as number;
  if (places === undefined) return types[0] === 'integer' ? x : decimalToInteger(x, rounding);
  if (types[0] === 'integer') return roundIntegerAt(x, places as number, rounding as 'round' | 'trunc');
  return roundDecimalAt(x, places as number, rounding);
}

/** PostgreSQL and the in-memory evaluator ignore NULL arguments; SQLite's max() would not, its aggregate does. */
function extremeSql(fn: 'max' | 'min', args: SqlArg[], ctx: SqlContext): RawBuilder<unknown> {
  const decimal = args.some((a) => a.type === 'decimal');
  const values = args.map((a) => (decimal ? decimalSql(a, ctx) : a.sql));
  if (isPg(ctx)) {
    return sql`${sql.raw(fn === 'max' ? 'greatest' : 'least')}(${sql.join(values)})`;
  }
  const rows = values.map((v) => sql`SELECT ${v} AS v`);
  return sql`(SELECT ${sql.raw(fn)}(v) FROM (${sql.join(rows, sql` UNION ALL `)}))`;
}

function extremeEvaluate(fn: 'max' | 'min', args: Value[]): Value {
  const present = args.filter((a): a is number => a !== null);
  return present.length === 0 ? null : Math[fn](...present);
}

function distanceSql([lonA, latA, lonB, latB]: SqlArg[], ctx: SqlContext): RawBuilder<unknown> {
  const [x1, y1, x2, y2] = [lonA!.sql, latA!.sql, lonB!.sql, latB!.sql];
  if (!isPg(ctx)) return sql`baton_distance(${x1}, ${y1}, ${x2}, ${y2})`;
  const halfLat = sql`sin(radians(${y2} - ${y1}) / 2)`;
  const halfLon = sql`sin(radians(${x2} - ${x1}) / 2)`;
  const h = sql`${halfLat} * ${halfLat} + cos(radians(${y1})) * cos(radians(${y2})) * ${halfLon} * ${halfLon}`;
  const km = sql`${sql.lit(EARTH_DIAMETER_KM)} * asin(least(1, sqrt(${h})))`;
  const onGlobe = sql`abs(${y1}) <= 90 AND abs(${y2}) <= 90 AND abs(${x1}) <= 180 AND abs(${x2}) <= 180`;
  return sql`(CASE WHEN ${onGlobe} THEN CAST(round(CAST(${km} AS numeric), ${sql.lit(DISTANCE_PLACES)}) AS double precision) END)`;
}

// ---------------------------------------------------------------------------------------------------
// The functions.

/** Integer in, integer out; a decimal (or NULL with a decimal) gives a decimal. */
const numberType = (types: ValueType[]): ValueType => (types.includes('decimal') ? 'decimal' : 'integer');

/**
 * A numeric function. Unless it says otherwise a NULL argument gives NULL; a NULL literal argument
 * compiles to NULL outright (PostgreSQL could not always type it inside a call).
 */
function numeric(def: Omit<FunctionDef, 'category'>): FunctionDef {
  const sqlOf = def.sql;
  const propagates = def.nullPropagating !== false;
  return {
    ...def,
    category: 'numeric',
    sql: (args, ctx) => (propagates && args.some((a) => a.type === 'null') ? sql`NULL` : sqlOf(args, ctx)),
  };
}

function rounding(
  name: string,
  mode: Rounding,
  summary: string,
  example: string,
  withPlaces: boolean,
): FunctionDef {
  const signatures: Signature[] = [{ params: ['number'], returns: 'integer' }];
  if (withPlaces) signatures.push({ params: ['number', 'integer'], returns: numberType });
  return numeric({
    name,
    summary,
    example,
    signatures,
    sql: (args, ctx) => roundingSql(mode, args, ctx),
    evaluate: (args, _ctx, types) => roundingEvaluate(mode, args, types),
  });
}

function extreme(name: string, fn: 'max' | 'min', summary: string, example: string): FunctionDef {
  return numeric({
    name,
    summary,
    example,
    signatures: [{ params: ['number', 'number'], variadic: true, returns: numberType }],
    nullPropagating: false,
    sql: (args, ctx) => extremeSql(fn, args, ctx),
    evaluate: (args) => extremeEvaluate(fn, args),
  });
}

function toInteger(name: string): FunctionDef {
  return numeric({
    name,
    summary: 'a value as a whole number: decimals truncated, whole-number text parsed, true 1 and false 0',
    example: `${name}(' -42 ')`,
    signatures: [
      { params: ['integer'], returns: 'integer' },
      { params: ['decimal'], returns: 'integer' },
      { params: ['string'], returns: 'integer' },
      { params: ['boolean'], returns: 'integer' },
    ],
    sql: ([arg], ctx) => {
      const { sql: x, type } = arg!;
      switch (type) {
        case 'decimal':
          return roundingSql('trunc', [arg!], ctx);
        case 'string':
          return isPg(ctx)
            ? sql`(CASE WHEN ${x} ~ ${sql.lit(WHOLE_TEXT)} THEN ${pgInteger(sql`CAST(${x} AS numeric)`)} END)`
            : sql`baton_to_integer(${x})`;
        case 'boolean':
          return isPg(ctx) ? sql`CAST(CAST(${x} AS integer) AS bigint)` : x;
        default:
          return x;
      }
    },
    evaluate: ([value], _ctx, [type]) => {
      switch (type) {
        case 'decimal':
          return decimalToInteger(value as number, 'trunc');
        case 'string':
          return parseWhole(value as string);
        case 'boolean':
          return value ? 1 : 0;
        default:
          return value!;
      }
    },
  });
}

export const NUMERIC_FUNCTIONS: FunctionDef[] = [
  numeric({
    name: 'Abs',
    summary: 'the number without its sign',
    example: 'Abs(balance)',
    signatures: [{ params: ['number'], returns: numberType }],
    sql: ([x]) => sql`abs(${x!.sql})`,
    evaluate: ([x]) => Math.abs(x as number),
  }),
  rounding('Ceil', 'ceil', 'the smallest whole number not below the number', 'Ceil(amount)', false),
  rounding('Floor', 'floor', 'the largest whole number not above the number', 'Floor(amount)', false),
  rounding(
    'Round',
    'round',
    'the number rounded half away from zero, to a whole number or to some decimal places',
    'Round(amount, 2)',
    true,
  ),
  rounding(
    'Trunc',
    'trunc',
    'the number cut toward zero, to a whole number or to some decimal places',
    'Trunc(amount, 1)',
    true,
  ),
  numeric({
    name: 'Mod',
    summary: 'the remainder of dividing the first number by the second, with the sign of the first',
    example: 'Mod(age, 10)',
    signatures: [
      { params: ['integer', 'integer'], returns: 'integer' },
      { params: ['decimal', 'decimal'], returns: 'decimal' },
    ],
    sql: ([a, b], ctx) => {
      if (a!.type === 'integer' && b!.type === 'integer') {
        return isPg(ctx) ? sql`mod(${a!.sql}, NULLIF(${b!.sql}, 0))` : sql`(${a!.sql} % ${b!.sql})`;
      }
      return isPg(ctx)
        ? sql`CAST(mod(CAST(${a!.sql} AS numeric), NULLIF(CAST(${b!.sql} AS numeric), 0)) AS double precision)`
        : sql`baton_mod(${a!.sql}, ${b!.sql})`;
    },
    evaluate: ([a, b], _ctx, types) => {
      if (types[0] === 'decimal') return decimalMod(a as number, b as number);
      return b === 0 ? null : ((a as number) % (b as number)) + 0;
    },
  }),
  numeric({
    name: 'Sign',
    summary: '-1, 0 or 1 as the number is negative, zero or positive',
    example: 'Sign(balance)',
    signatures: [{ params: ['number'], returns: 'integer' }],
    sql: ([x], ctx) => (isPg(ctx) ? sql`CAST(sign(${decimalSql(x!, ctx)}) AS bigint)` : sql`sign(${x!.sql})`),
    evaluate: ([x]) => Math.sign(x as number) + 0,
  }),
  extreme(
    'Greatest',
    'max',
    'the largest of the numbers, ignoring empty ones',
    'Greatest(score_email, score_sms)',
  ),
  extreme('Least', 'min', 'the smallest of the numbers, ignoring empty ones', 'Least(discount, 30)'),
  numeric({
    name: 'Percent',
    summary: 'part × 100 / total, as a decimal (empty when the total is 0)',
    example: 'Percent(opened, sent)',
    signatures: [{ params: ['decimal', 'decimal'], returns: 'decimal' }],
    sql: ([part, total]) => sql`(${part!.sql} * 100 / NULLIF(${total!.sql}, 0) + 0)`,
    evaluate: ([part, total]) => (total === 0 ? null : ((part as number) * 100) / (total as number) + 0),
  }),
  toInteger('ToInteger'),
  toInteger('ToInt64'),
  numeric({
    name: 'ToDouble',
    summary: 'a number or a decimal-number text as a decimal (empty when the text is not a number)',
    example: "ToDouble(' 12.50 ')",
    signatures: [
      { params: ['decimal'], returns: 'decimal' },
      { params: ['string'], returns: 'decimal' },
    ],
    sql: ([arg], ctx) => {
      const x = arg!.sql;
      if (arg!.type !== 'string') return x;
      if (!isPg(ctx)) return sql`baton_to_double(${x})`;
      const trimmed = sql`btrim(${x}, ${sql.lit(' ')} || chr(9) || chr(13) || chr(10))`;
      return sql`(CASE WHEN ${x} ~ ${sql.lit(DECIMAL_TEXT)} AND length(${trimmed}) <= ${sql.lit(DECIMAL_TEXT_LIMIT)} THEN CAST(${x} AS double precision) + 0 END)`;
    },
    evaluate: ([value], _ctx, [type]) => (type === 'string' ? parseDecimal(value as string) : value!),
  }),
  numeric({
    name: 'Sqrt',
    summary: 'the square root (empty for a negative number)',
    example: 'Sqrt(area)',
    signatures: [{ params: ['decimal'], returns: 'decimal' }],
    sql: ([x], ctx) =>
      isPg(ctx) ? sql`(CASE WHEN ${x!.sql} >= 0 THEN sqrt(${x!.sql}) + 0 END)` : sql`(sqrt(${x!.sql}) + 0)`,
    evaluate: ([x]) => ((x as number) < 0 ? null : Math.sqrt(x as number) + 0),
  }),
  numeric({
    name: 'Random',
    summary: 'a random decimal from 0 (included) to 1 (excluded), new for every row',
    example: 'Random() < 0.1',
    signatures: [{ params: [], returns: 'decimal' }],
    deterministic: false,
    // 53 random bits, as many as a double holds: evenly spread, and never 1.
    sql: (_args, ctx) =>
      isPg(ctx) ? sql`random()` : sql`((random() & ${sql.lit(MAX_INTEGER)}) / ${sql.lit(MAX_INTEGER + 1)}.0)`,
    evaluate: () => Math.random(),
  }),
  numeric({
    name: 'Distance',
    summary: 'the great-circle distance in km between two points given as longitude, latitude in degrees',
    example: 'Distance(store.lon, store.lat, lon, lat)',
    signatures: [{ params: ['decimal', 'decimal', 'decimal', 'decimal'], returns: 'decimal' }],
    sql: distanceSql,
    evaluate: (args) => distanceKm(...(args as [number, number, number, number])),
  }),
];
