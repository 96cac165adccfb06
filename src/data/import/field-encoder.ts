import { isUtf8 } from 'node:buffer';
import type { BulkValues } from '../../db/bulk-values.ts';
import type { ColumnDef } from '../../schema/types.ts';
import { parseCell } from '../cell-values.ts';
import { formatReader } from '../value-formats.ts';
import type { CsvRecordView } from '../csv-scanner.ts';
import { NOT_UTF8_REASON, type PackedRowsBuilder } from './packed-rows.ts';

/**
 * One column's CSV field, read from the scanned bytes and written to a packed batch encoded for the
 * database (`SqlDialect.encodeForBulk`), or the reason it is rejected. Built once per column per import.
 *
 * The shapes that make up nearly every real file are checked and copied byte by byte, without making a
 * string: plain text, canonical integers, exact booleans, `YYYY-MM-DD` dates and UTC date-times such as
 * `2026-03-01T09:30:00Z`. Everything else takes the general way (decode, `parseCell`, `encodeForBulk`),
 * and a property test holds the two ways equal.
 */
export type FieldEncoder = (
  record: CsvRecordView,
  field: number,
  out: PackedRowsBuilder,
) => string | undefined;

const DASH = 45;
const DOT = 46;
const COLON = 58;
const ZERO = 48;
const T = 84;
const Z = 90;

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

function digitsAt(b: Uint8Array, from: number, count: number): number {
  let n = 0;
  for (let i = from; i < from + count; i++) {
    const d = b[i]! - ZERO;
    if (d < 0 || d > 9) return -1;
    n = n * 10 + d;
  }
  return n;
}

/** `YYYY-MM-DD` at `s`, a real calendar day of a year from 0100 (the general parse owns years below). */
function isIsoDate(b: Uint8Array, s: number): boolean {
  if (b[s + 4] !== DASH || b[s + 7] !== DASH) return false;
  const y = digitsAt(b, s, 4);
  const m = digitsAt(b, s + 5, 2);
  const d = digitsAt(b, s + 8, 2);
  if (y < 100 || m < 1 || m > 12 || d < 1) return false;
  const leap = m === 2 && ((y % 4 === 0 && y % 100 !== 0) || y % 400 === 0);
  return d <= DAYS_IN_MONTH[m - 1]! + (leap ? 1 : 0);
}

/** `YYYY-MM-DDTHH:MM:SS[.sss]Z`, the shape exports nearly always use. */
function isUtcDatetime(b: Uint8Array, s: number, length: number): boolean {
  if ((length !== 20 && length !== 24) || b[s + length - 1] !== Z) return false;
  if (!isIsoDate(b, s) || b[s + 10] !== T || b[s + 13] !== COLON || b[s + 16] !== COLON) return false;
  const h = digitsAt(b, s + 11, 2);
  const mi = digitsAt(b, s + 14, 2);
  const sec = digitsAt(b, s + 17, 2);
  if (h < 0 || h > 23 || mi < 0 || mi > 59 || sec < 0 || sec > 59) return false;
  return length === 20 || (b[s + 19] === DOT && digitsAt(b, s + 20, 3) >= 0);
}

/** `0` or an optional minus and 1 to 15 digits without a leading zero: exact as a double, as text. */
function isCanonicalInteger(b: Uint8Array, s: number, e: number): boolean {
  let i = s;
  if (i < e && b[i] === DASH) i++;
  const digits = e - i;
  if (digits < 1 || digits > 15) return false;
  if (b[i] === ZERO) return digits === 1 && i === s;
  for (; i < e; i++) if (b[i]! < ZERO || b[i]! > ZERO + 9) return false;
  return true;
}

function asciiBytes(text: string): Uint8Array {
  return Buffer.from(text, 'latin1');
}

const BOOLEAN_WORDS = [
  ['true', true],
  ['false', false],
  ['1', true],
  ['0', false],
  ['yes', true],
  ['no', false],
] as const;

/**
 * A column to read: a column of the schema, or of a loaded file, which may declare the format its values
 * are written in (src/data/value-formats.ts).
 */
export type ReadColumn = ColumnDef & { format?: string };

export function fieldEncoder(column: ReadColumn, dialect: BulkValues): FieldEncoder {
  const reader = column.format === undefined ? undefined : formatReader(column.type, column.format);
  if (typeof reader === 'string') throw new Error(`column ${column.name}: ${reader}`);
  const read = reader;
  const general: FieldEncoder = (record, field, out) => {
    const bytes = record.bytes.subarray(record.starts[field], record.ends[field]);
    if (!isUtf8(bytes)) return NOT_UTF8_REASON;
    let text = record.text(field);
    // A declared format is rewritten into the canonical form first; empty stays empty (NULL).
    if (read && text !== null && text.trim() !== '') {
      const rewritten = read(text);
      if ('reason' in rewritten) return rewritten.reason;
      text = rewritten.text;
    }
    const parsed = parseCell(column, text);
    if (!parsed.ok) return parsed.reason;
    if (parsed.value === null) out.nullValue();
    else out.encodedValue(dialect.encodeForBulk(column.type, parsed.value)!);
    return undefined;
  };
  // A formatted column skips the byte-level fast paths: they read the canonical forms only.
  if (read) return general;
  switch (column.type) {
    case 'string': {
      if (column.values) {
        const allowed = new Map(column.values.map((v) => [v, dialect.encodeForBulk('string', v)!]));
        return (record, field, out) => {
          const encoded = record.isNull(field) ? undefined : allowed.get(record.text(field)!);
          if (encoded === undefined) return general(record, field, out);
          out.encodedValue(encoded);
          return undefined;
        };
      }
      return (record, field, out) => {
        if (record.isNull(field)) {
          out.nullValue();
          return undefined;
        }
        return out.stringValue(
          record.bytes,
          record.starts[field]!,
          record.ends[field]!,
          record.quoting[field]!,
        );
      };
    }
    case 'integer':
      return (record, field, out) => {
        const s = record.starts[field]!;
        const e = record.ends[field]!;
        if (!isCanonicalInteger(record.bytes, s, e)) return general(record, field, out);
        out.rawValue(record.bytes, s, e);
        return undefined;
      };
    case 'boolean': {
      const words = BOOLEAN_WORDS.map(([word, value]) => ({
        word: asciiBytes(word),
        encoded: asciiBytes(dialect.encodeForBulk('boolean', value)!),
      }));
      return (record, field, out) => {
        const s = record.starts[field]!;
        const length = record.ends[field]! - s;
        const b = record.bytes;
        next: for (const { word, encoded } of words) {
          if (word.length !== length) continue;
          for (let i = 0; i < length; i++) if (b[s + i] !== word[i]) continue next;
          out.rawValue(encoded, 0, encoded.length);
          return undefined;
        }
        return general(record, field, out);
      };
    }
    case 'date':
      return (record, field, out) => {
        const s = record.starts[field]!;
        if (record.ends[field]! - s !== 10 || !isIsoDate(record.bytes, s)) return general(record, field, out);
        out.rawValue(record.bytes, s, s + 10);
        return undefined;
      };
    case 'datetime': {
      // The stored form: SQLite `YYYY-MM-DD HH:MM:SS.SSS`, PostgreSQL `YYYY-MM-DDTHH:MM:SS.SSSZ`.
      const scratch = Buffer.from(
        dialect.kind === 'sqlite' ? '0000-00-00 00:00:00.000' : '0000-00-00T00:00:00.000Z',
        'latin1',
      );
      return (record, field, out) => {
        const s = record.starts[field]!;
        const length = record.ends[field]! - s;
        const b = record.bytes;
        if (!isUtcDatetime(b, s, length)) return general(record, field, out);
        for (let i = 0; i < 19; i++) if (i !== 10) scratch[i] = b[s + i]!;
        for (let i = 0; i < 3; i++) scratch[20 + i] = length === 24 ? b[s + 20 + i]! : ZERO;
        out.rawValue(scratch, 0, scratch.length);
        return undefined;
      };
    }
    default:
      return general;
  }
}
