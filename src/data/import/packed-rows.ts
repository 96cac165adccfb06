import type { StagedRow } from './table-writer.ts';

/**
 * Checked rows on their way from the reading half of an import to the writing half, packed into one
 * string (values joined by NUL, which no value can hold) plus line numbers and change kinds. Building one
 * string as rows are read allocates far less than an object per row, and crossing a thread boundary it
 * is one copy instead of a structured clone of millions of small strings. NULL is a lone U+0001; a value
 * that starts with U+0001 gets one more in front.
 */
export interface PackedRows {
  lines: Int32Array;
  ops: string;
  text: string;
}

const SEPARATOR = '\u0000';
const NULL_MARK = '\u0001';

export class PackedRowsBuilder {
  private lines: number[] = [];
  private ops = '';
  private parts: string[] = [];

  get count(): number {
    return this.lines.length;
  }

  add(line: number, op: 'u' | 'd', values: ReadonlyArray<string | null>, width: number): void {
    this.lines.push(line);
    this.ops += op;
    const marked = new Array<string>(width);
    for (let i = 0; i < width; i++) {
      const value = values[i] ?? null;
      marked[i] = value === null ? NULL_MARK : value.charCodeAt(0) === 1 ? NULL_MARK + value : value;
    }
    // A row is joined at once (native and cheap); the batch is joined from rows in take().
    this.parts.push(marked.join(SEPARATOR));
  }

  /** The rows so far; the builder starts over empty. */
  take(): PackedRows {
    // One join at the end: far cheaper than growing a string value by value (a rope of millions of nodes).
    this.parts.push('');
    const packed = { lines: Int32Array.from(this.lines), ops: this.ops, text: this.parts.join(SEPARATOR) };
    this.lines = [];
    this.ops = '';
    this.parts = [];
    return packed;
  }
}

export function unpackRows(packed: PackedRows): StagedRow[] {
  const count = packed.lines.length;
  if (count === 0) return [];
  const pieces = packed.text.split(SEPARATOR);
  // Every value ends with a separator, so the split has one empty piece more.
  const width = (pieces.length - 1) / count;
  const rows = new Array<StagedRow>(count);
  for (let i = 0, p = 0; i < count; i++) {
    const values = new Array<string | null>(width);
    for (let c = 0; c < width; c++, p++) {
      const piece = pieces[p]!;
      values[c] = piece.charCodeAt(0) === 1 ? (piece.length === 1 ? null : piece.slice(1)) : piece;
    }
    rows[i] = { line: packed.lines[i]!, op: packed.ops[i] as 'u' | 'd', values };
  }
  return rows;
}
