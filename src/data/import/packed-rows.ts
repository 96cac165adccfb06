import { isUtf8 } from 'node:buffer';
import type { DatabaseKind } from '../../db/bulk-values.ts';
import { ESCAPED } from '../csv-scanner.ts';
import type { RowBatch, StagedRow } from './table-writer.ts';

/**
 * Checked rows on their way from the reading half of an import to the writing half, as bytes already in
 * the form the database's bulk path takes, plus each row's line number and change kind:
 *
 * - PostgreSQL: COPY text lines (values escaped, tab-separated, `\N` for NULL), which the writer sends to
 *   `COPY … FROM STDIN` as they are, without ever decoding them;
 * - SQLite: each value's UTF-8 text followed by a NUL byte (no value can hold one); NULL is a lone U+0001,
 *   and a value that starts with U+0001 gets one more in front. The writer decodes a batch with one
 *   native call and one split.
 *
 * Crossing the thread boundary the bytes are transferred, not copied, and building them allocates no
 * object per row or per value.
 */
export interface PackedRows {
  kind: DatabaseKind;
  width: number;
  lines: Int32Array;
  ops: Uint8Array;
  bytes: Uint8Array;
}

const NUL = 0;
const NULL_MARK = 1;
const TAB = 9;
const LF = 10;
const CR = 13;
const QUOTE = 34;
const BACKSLASH = 92;
const OP_UPSERT = 117; // 'u'
const OP_DELETE = 100; // 'd'

export const NUL_REASON = 'contains a NUL character, which the database cannot store';
export const NOT_UTF8_REASON = 'is not valid UTF-8 text; save the file with the UTF-8 encoding';

export class PackedRowsBuilder {
  private out: Buffer;
  private length = 0;
  private rowStart = 0;
  private lines: number[] = [];
  private ops: number[] = [];
  private readonly pg: boolean;
  /** Whether the last value written was NULL (a key column must not be). */
  lastWasNull = false;

  constructor(
    readonly kind: DatabaseKind,
    readonly width: number,
    private capacity = 1 << 16,
  ) {
    this.pg = kind === 'postgres';
    this.out = Buffer.allocUnsafeSlow(capacity);
  }

  get count(): number {
    return this.lines.length;
  }

  private room(bytes: number): void {
    if (this.length + bytes <= this.out.length) return;
    const bigger = Buffer.allocUnsafeSlow(Math.max(this.out.length * 2, this.length + bytes));
    this.out.copy(bigger, 0, 0, this.length);
    this.out = bigger;
  }

  private endValue(): void {
    this.out[this.length++] = this.pg ? TAB : NUL;
  }

  nullValue(): void {
    this.room(3);
    if (this.pg) {
      this.out[this.length++] = BACKSLASH;
      this.out[this.length++] = 78; // N
    } else this.out[this.length++] = NULL_MARK;
    this.endValue();
    this.lastWasNull = true;
  }

  /** A value already encoded by `SqlDialect.encodeForBulk` (not NULL). */
  encodedValue(text: string): void {
    this.room(text.length * 3 + 2);
    if (!this.pg && text.charCodeAt(0) === NULL_MARK) this.out[this.length++] = NULL_MARK;
    this.length += this.out.write(text, this.length, 'utf8');
    this.endValue();
    this.lastWasNull = false;
  }

  /** A whole number (a record's line number) as its digits, which need no escaping on either database. */
  integerValue(value: number): void {
    this.room(24);
    this.length += this.out.write(String(value), this.length, 'latin1');
    this.endValue();
    this.lastWasNull = false;
  }

  /** Bytes that are already the encoded value and need no escaping (digits, dates, constants). */
  rawValue(source: Uint8Array, start: number, end: number): void {
    this.room(end - start + 1);
    const out = this.out;
    let p = this.length;
    for (let i = start; i < end; i++) out[p++] = source[i]!;
    this.length = p;
    this.endValue();
    this.lastWasNull = false;
  }

  /**
   * A text field's bytes as a string value: doubled quotes of an escaped field become one, and COPY's
   * special bytes are escaped. Returns why the value cannot be stored (NUL, invalid UTF-8), if it cannot.
   */
  stringValue(source: Uint8Array, start: number, end: number, quoting: number): string | undefined {
    // Worst case: every byte escaped, plus the U+0001 mark and the separator.
    this.room((end - start) * 2 + 2);
    const out = this.out;
    const pg = this.pg;
    let p = this.length;
    if (!pg && start < end && source[start] === NULL_MARK) out[p++] = NULL_MARK;
    let high = 0;
    for (let i = start; i < end; i++) {
      const c = source[i]!;
      high |= c;
      if (c === NUL) return NUL_REASON;
      if (pg && (c === BACKSLASH || c === TAB || c === LF || c === CR)) {
        out[p++] = BACKSLASH;
        out[p++] = c === BACKSLASH ? BACKSLASH : c === TAB ? 116 : c === LF ? 110 : 114; // \\ \t \n \r
        continue;
      }
      out[p++] = c;
      if (c === QUOTE && quoting === ESCAPED) i++;
    }
    if (high >= 0x80 && !isUtf8(source.subarray(start, end))) return NOT_UTF8_REASON;
    this.length = p;
    this.endValue();
    this.lastWasNull = false;
    return undefined;
  }

  beginRow(): void {
    this.rowStart = this.length;
  }

  /** Drops the values written since `beginRow` (the row is rejected). */
  cancelRow(): void {
    this.length = this.rowStart;
  }

  endRow(line: number, op: 'u' | 'd'): void {
    // COPY: the last value ends the line instead of being followed by a tab.
    if (this.pg) this.out[this.length - 1] = LF;
    this.lines.push(line);
    this.ops.push(op === 'u' ? OP_UPSERT : OP_DELETE);
  }

  /** The rows so far (their bytes are a buffer of their own, transferable); the builder starts over empty. */
  take(): PackedRows {
    const packed: PackedRows = {
      kind: this.kind,
      width: this.width,
      lines: Int32Array.from(this.lines),
      ops: Uint8Array.from(this.ops),
      bytes: this.out.subarray(0, this.length),
    };
    // The next batch is likely the size of this one: start there, with some room to spare.
    this.capacity = Math.max(this.capacity, this.length + (this.length >> 3));
    this.out = Buffer.allocUnsafeSlow(this.capacity);
    this.length = this.rowStart = 0;
    this.lines = [];
    this.ops = [];
    return packed;
  }
}

function asBuffer(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

/** The values of packed rows, one row after the other, as strings encoded as `encodeForBulk` does. */
function unpackValues(packed: PackedRows): Array<string | null> {
  const count = packed.lines.length;
  if (count === 0) return [];
  const text = asBuffer(packed.bytes).toString('utf8');
  if (packed.kind === 'postgres') {
    // COPY text never holds a raw newline or tab inside a value: they are escaped.
    const lines = text.split('\n');
    lines.pop();
    return lines.flatMap((line) => line.split('\t'));
  }
  const values: Array<string | null> = text.split('\u0000');
  // Every value ends with a separator, so the split has one empty piece more.
  values.pop();
  for (let i = 0; i < values.length; i++) {
    const value = values[i]!;
    if (value.charCodeAt(0) === NULL_MARK) values[i] = value.length === 1 ? null : value.slice(1);
  }
  return values;
}

/** Packed rows as a writer's batch: PostgreSQL sends the bytes as they are; values are decoded when asked for. */
export function packedBatch(packed: PackedRows): RowBatch {
  let values: Array<string | null> | undefined;
  let rows: StagedRow[] | undefined;
  const count = packed.lines.length;
  const width = packed.width;
  return {
    count,
    values: () => (values ??= unpackValues(packed)),
    rows() {
      if (rows) return rows;
      const all = this.values();
      rows = new Array<StagedRow>(count);
      for (let i = 0; i < count; i++) {
        rows[i] = {
          line: packed.lines[i]!,
          op: packed.ops[i] === OP_DELETE ? 'd' : 'u',
          values: all.slice(i * width, (i + 1) * width),
        };
      }
      return rows;
    },
    copyText: () => (packed.kind === 'postgres' ? packed.bytes : undefined),
  };
}
