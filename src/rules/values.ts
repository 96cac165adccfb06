import type { ColumnType } from '../schema/types.ts';

/**
 * Values as rules and expressions see them. The same representation is used by the in-memory evaluator
 * and for the parameters the SQL compiler binds, so both read a literal the same way:
 *
 * | type       | value                                   |
 * |------------|-----------------------------------------|
 * | `string`   | a string                                |
 * | `integer`  | a number (a safe integer)               |
 * | `decimal`  | a number (IEEE double)                  |
 * | `boolean`  | true / false                            |
 * | `date`     | a `YYYY-MM-DD` string                   |
 * | `datetime` | epoch milliseconds (UTC)                |
 *
 * and NULL is null. The `null` type is the type of the NULL literal: it fits wherever a value does.
 */
export type ValueType = ColumnType | 'null';
export type Value = string | number | boolean | null;

export const MS_PER_DAY = 86_400_000;

export function isNumeric(type: ValueType): boolean {
  return type === 'integer' || type === 'decimal';
}

export function isTemporal(type: ValueType): boolean {
  return type === 'date' || type === 'datetime';
}

/** `YYYY-MM-DD` → epoch milliseconds of its midnight UTC. */
export function dateToMs(date: string): number {
  // setUTCFullYear, unlike Date.UTC, does not read years 0-99 as 1900-1999.
  return new Date(0).setUTCFullYear(
    Number(date.slice(0, 4)),
    Number(date.slice(5, 7)) - 1,
    Number(date.slice(8, 10)),
  );
}

/** The instants rules and expressions handle: the years 0001 to 9999, as both databases can store them. */
export const MIN_DATETIME = Date.parse('0001-01-01T00:00:00.000Z');
export const MAX_DATETIME = Date.parse('9999-12-31T23:59:59.999Z');

/** Epoch milliseconds → the `YYYY-MM-DD` of that instant in UTC. */
export function msToDate(ms: number): string {
  return new Date(Math.floor(ms / MS_PER_DAY) * MS_PER_DAY).toISOString().slice(0, 10);
}

/** The type two operands are compared in: numbers together, a date with a datetime as a datetime. */
export function comparisonType(a: ValueType, b: ValueType): ValueType | undefined {
  if (a === 'null') return b;
  if (b === 'null') return a;
  if (a === b) return a;
  if (isNumeric(a) && isNumeric(b)) return 'decimal';
  if (isTemporal(a) && isTemporal(b)) return 'datetime';
  return undefined;
}

/** A value of one type as another that `comparisonType` allows (integer → decimal, date → datetime). */
export function widen(value: Value, from: ValueType, to: ValueType): Value {
  if (value === null || from === to) return value;
  if (from === 'date' && to === 'datetime') return dateToMs(value as string);
  return value;
}

/**
 * Text order as both databases use it: by code point (SQLite's binary collation compares UTF-8 bytes;
 * PostgreSQL is told `COLLATE "C"`). JavaScript's `<` compares UTF-16 units, which puts characters beyond
 * U+FFFF before U+E000…U+FFFF; this corrects that.
 */
export function compareText(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    let x = a.charCodeAt(i);
    let y = b.charCodeAt(i);
    if (x === y) continue;
    if (x >= 0xd800) x = x >= 0xe000 ? x - 0x800 : x + 0x2000;
    if (y >= 0xd800) y = y >= 0xe000 ? y - 0x800 : y + 0x2000;
    return x - y;
  }
  return a.length - b.length;
}

/** Orders two non-NULL values of the same comparison type. */
export function compareValues(a: Exclude<Value, null>, b: Exclude<Value, null>): number {
  if (typeof a === 'string' && typeof b === 'string') return compareText(a, b);
  return Number(a) - Number(b);
}
