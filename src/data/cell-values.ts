import type { CellValue, ColumnDef } from '../schema/types.ts';

/**
 * Text → typed value for each column type, as CSV imports and load-file read it. The accepted forms are
 * documented in docs/import.md. A failure says what was expected, in words a person can act on.
 */
export type ParsedCell = { ok: true; value: CellValue } | { ok: false; reason: string };

const INTEGER = /^[+-]?\d+$/;
const DECIMAL = /^[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
const DATETIME =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d{1,9}))?)?)?\s*(Z|[+-]\d{2}(?::?\d{2})?)?$/i;
const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;
const TRUE_WORDS = new Set(['true', '1', 'yes']);
const FALSE_WORDS = new Set(['false', '0', 'no']);

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function validDate(y: number, m: number, d: number): boolean {
  if (y < 1 || m < 1 || m > 12 || d < 1) return false;
  return d <= DAYS_IN_MONTH[m - 1]! + (m === 2 && isLeap(y) ? 1 : 0);
}

function isLeap(y: number): boolean {
  return (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
}

function fail(reason: string): ParsedCell {
  return { ok: false, reason };
}

export function parseInteger(text: string): ParsedCell {
  if (!INTEGER.test(text)) return fail('expected a whole number such as 42 or -7');
  const n = Number(text);
  if (Number.isSafeInteger(n)) return { ok: true, value: n };
  const big = BigInt(text);
  if (big < INT64_MIN || big > INT64_MAX) return fail('whole number out of the 64-bit range');
  return { ok: true, value: big };
}

export function parseDecimal(text: string): ParsedCell {
  if (!DECIMAL.test(text)) return fail('expected a decimal number with a dot, such as 12.50');
  const value = text.startsWith('+') ? text.slice(1) : text;
  if (!Number.isFinite(Number(value))) return fail('decimal number out of range');
  return { ok: true, value };
}

export function parseBoolean(text: string): ParsedCell {
  const word = text.toLowerCase();
  if (TRUE_WORDS.has(word)) return { ok: true, value: true };
  if (FALSE_WORDS.has(word)) return { ok: true, value: false };
  return fail('expected true/false, 1/0 or yes/no');
}

export function parseDate(text: string): ParsedCell {
  const m = DATE.exec(text);
  if (!m || !validDate(Number(m[1]), Number(m[2]), Number(m[3]))) {
    return fail('expected a calendar date as YYYY-MM-DD');
  }
  return { ok: true, value: text };
}

function digits(text: string, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** The common shape `YYYY-MM-DDTHH:MM:SS[.sss]Z`, read without a regex (imports meet it millions of times). */
function parseUtcDatetimeFast(text: string): number | undefined {
  const length = text.length;
  if ((length !== 20 && length !== 24) || text.charCodeAt(length - 1) !== 90 /* Z */) return undefined;
  if (text[4] !== '-' || text[7] !== '-' || text[10] !== 'T' || text[13] !== ':' || text[16] !== ':')
    return undefined;
  const y = digits(text, 0, 4);
  const mo = digits(text, 5, 2);
  const d = digits(text, 8, 2);
  const h = digits(text, 11, 2);
  const mi = digits(text, 14, 2);
  const s = digits(text, 17, 2);
  const ms = length === 24 ? (text[19] === '.' ? digits(text, 20, 3) : -1) : 0;
  if (y < 1 || mo < 0 || d < 0 || h < 0 || h > 23 || mi < 0 || mi > 59 || s < 0 || s > 59 || ms < 0)
    return undefined;
  if (!validDate(y, mo, d)) return undefined;
  return y >= 100 ? Date.UTC(y, mo - 1, d, h, mi, s, ms) : undefined;
}

/** ISO 8601 date-time; without an offset it is read as UTC. The result is epoch milliseconds. */
export function parseDatetime(text: string): ParsedCell {
  const fast = parseUtcDatetimeFast(text);
  if (fast !== undefined) return { ok: true, value: fast };
  const m = DATETIME.exec(text);
  const expected = 'expected an ISO 8601 date-time such as 2026-03-01T09:30:00Z';
  if (!m) return fail(expected);
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const [h, mi, s] = [Number(m[4] ?? 0), Number(m[5] ?? 0), Number(m[6] ?? 0)];
  if (!validDate(y, mo, d) || h > 23 || mi > 59 || s > 59) return fail(expected);
  const ms = m[7] ? Math.floor(Number(`0.${m[7]}`) * 1000) : 0;
  let offsetMinutes = 0;
  const zone = m[8];
  if (zone && zone.toUpperCase() !== 'Z') {
    const digitsText = zone.slice(1).replace(':', '');
    const oh = Number(digitsText.slice(0, 2));
    const om = Number(digitsText.slice(2) || 0);
    if (oh > 23 || om > 59) return fail(expected);
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (oh * 60 + om);
  }
  const date = new Date(0);
  // setUTCFullYear, unlike Date.UTC, does not map years 0-99 to 1900-1999.
  date.setUTCFullYear(y, mo - 1, d);
  date.setUTCHours(h, mi, s, ms);
  const value = date.getTime() - offsetMinutes * 60_000;
  const year = new Date(value).getUTCFullYear();
  if (year < 1 || year > 9999) return fail('date-time out of the years 0001-9999');
  return { ok: true, value };
}

/**
 * One CSV field for one column. An unquoted empty field (null) is NULL for every type; a quoted empty
 * field is the empty string for string columns and NULL for the others. Non-string values may carry
 * surrounding spaces.
 */
export function parseCell(column: ColumnDef, field: string | null): ParsedCell {
  if (field === null) return { ok: true, value: null };
  if (field.includes('\u0000')) return fail('contains a NUL character, which the database cannot store');
  if (column.type === 'string') {
    if (column.values && !column.values.includes(field)) {
      return fail(`not one of the allowed values: ${column.values.join(', ')}`);
    }
    return { ok: true, value: field };
  }
  const text = field.trim();
  if (text === '') return { ok: true, value: null };
  switch (column.type) {
    case 'integer':
      return parseInteger(text);
    case 'decimal':
      return parseDecimal(text);
    case 'boolean':
      return parseBoolean(text);
    case 'date':
      return parseDate(text);
    case 'datetime':
      return parseDatetime(text);
  }
}
