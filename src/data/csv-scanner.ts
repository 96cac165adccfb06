/**
 * A streaming CSV scanner over raw bytes (RFC 4180 plus the common variants): quoted fields with `""`
 * escapes and embedded line breaks, `\n`, `\r\n` or `\r` line ends, a UTF-8 BOM, and `,` `;` or tab
 * delimiters (detected from the header line when not given).
 *
 * It is ours rather than a library's for three reasons that matter to imports: it tells an unquoted empty
 * field (NULL) from a quoted one (`""`, the empty string); it knows the physical line each record starts
 * on, so every rejection names the line a person sees in an editor; and it does not make a string per
 * field. It finds where each field lies in the bytes and leaves it there, so that an import can check and
 * re-encode values byte by byte, and only decodes text where it must (the header, a rejected row, a value
 * that needs the general parse). Delimiters, quotes and line ends are ASCII, and a UTF-8 multi-byte
 * sequence never contains an ASCII byte, so scanning bytes finds exactly the boundaries that scanning the
 * decoded text would.
 */
export type Delimiter = ',' | ';' | '\t';

const QUOTE = 34;
const LF = 10;
const CR = 13;
const BOM = [0xef, 0xbb, 0xbf];

export function detectDelimiter(firstLine: string): Delimiter {
  const counts: Record<Delimiter, number> = { ',': 0, ';': 0, '\t': 0 };
  let quoted = false;
  for (const ch of firstLine) {
    if (ch === '"') quoted = !quoted;
    else if (!quoted && (ch === ',' || ch === ';' || ch === '\t')) counts[ch]++;
  }
  let best: Delimiter = ',';
  for (const d of [';', '\t'] as const) if (counts[d] > counts[best]) best = d;
  return best;
}

/** How a field was written: its bytes lie between the quotes, with `""` still doubled when ESCAPED. */
export const UNQUOTED = 0;
export const QUOTED = 1;
export const ESCAPED = 2;

/**
 * One record as the scanner found it: where each field lies in `bytes`. The scanner reuses this object
 * for every record, and its bytes change when more input is pushed, so it is valid only inside the
 * `drain` callback that receives it.
 */
export class CsvRecordView {
  bytes: Buffer = Buffer.alloc(0);
  /** 1-based physical line where the record starts. */
  line = 0;
  count = 0;
  starts = new Int32Array(64);
  ends = new Int32Array(64);
  /** UNQUOTED, QUOTED or ESCAPED, per field. */
  quoting = new Uint8Array(64);
  /** Set when the record is malformed; its fields are then unreliable. */
  error: string | undefined;

  /** Unquoted empty fields are NULL; quoted ones are text, even when empty. */
  isNull(i: number): boolean {
    return this.quoting[i] === UNQUOTED && this.starts[i] === this.ends[i];
  }

  /** A field as text (invalid UTF-8 decodes to U+FFFD); null for NULL. */
  text(i: number): string | null {
    if (this.isNull(i)) return null;
    const text = this.bytes.toString('utf8', this.starts[i], this.ends[i]);
    return this.quoting[i] === ESCAPED ? text.replaceAll('""', '"') : text;
  }

  texts(): Array<string | null> {
    const out = new Array<string | null>(this.count);
    for (let i = 0; i < this.count; i++) out[i] = this.text(i);
    return out;
  }

  /** Room for field n (records may have any number of fields). */
  reserve(n: number): void {
    if (n < this.starts.length) return;
    const grow = <T extends Int32Array | Uint8Array>(from: T, to: T): T => (to.set(from), to);
    const size = this.starts.length * 2;
    this.starts = grow(this.starts, new Int32Array(size));
    this.ends = grow(this.ends, new Int32Array(size));
    this.quoting = grow(this.quoting, new Uint8Array(size));
  }
}

export class CsvScanner {
  private delimiter: number | undefined;
  private buffer = Buffer.allocUnsafeSlow(1 << 16);
  private start = 0;
  private end = 0;
  private line = 1;
  private started = false;
  private readonly view = new CsvRecordView();

  constructor(delimiter?: Delimiter) {
    if (delimiter) this.delimiter = delimiter.charCodeAt(0);
  }

  get detectedDelimiter(): Delimiter | undefined {
    return this.delimiter === undefined ? undefined : (String.fromCharCode(this.delimiter) as Delimiter);
  }

  /** Adds input. Records seen by earlier `drain` callbacks are no longer valid. */
  push(chunk: Uint8Array): void {
    const needed = this.end - this.start + chunk.length;
    if (this.end + chunk.length > this.buffer.length) {
      // Keep the unscanned tail, at the front of a buffer big enough for it and the chunk.
      const target =
        needed > this.buffer.length
          ? Buffer.allocUnsafeSlow(Math.max(needed, this.buffer.length * 2))
          : this.buffer;
      this.buffer.copy(target, 0, this.start, this.end);
      this.buffer = target;
      this.end -= this.start;
      this.start = 0;
    }
    this.buffer.set(chunk, this.end);
    this.end += chunk.length;
  }

  /**
   * Calls `onRecord` for each complete record pushed so far (with `final`, for all the rest, reporting an
   * unterminated quote). When `onRecord` returns true the scan pauses after that record and `drain`
   * returns true; call it again to go on.
   */
  drain(final: boolean, onRecord: (record: CsvRecordView) => boolean | void): boolean {
    if (!this.prepare(final)) return false;
    const b = this.buffer;
    const length = this.end;
    const delim = this.delimiter!;
    const view = this.view;
    view.bytes = b;
    let pos = this.start;
    let line = this.line;
    let paused = false;
    outer: while (pos < length) {
      const recordStart = pos;
      const recordLine = line;
      const c0 = b[pos];
      // A blank line is no record: skip it (it still counts for line numbers).
      if (c0 === LF || c0 === CR) {
        if (c0 === CR && pos + 1 >= length && !final) break;
        pos += c0 === CR && b[pos + 1] === LF ? 2 : 1;
        line++;
        continue;
      }
      let n = 0;
      let error: string | undefined;
      let quotedRecord = false;
      for (;;) {
        view.reserve(n);
        if (pos < length && b[pos] === QUOTE) {
          quotedRecord = true;
          // Quoted field: up to the closing quote; a doubled quote is part of the value.
          const from = pos + 1;
          let i = from;
          let quoting = QUOTED;
          let closed = false;
          while (i < length) {
            if (b[i] !== QUOTE) {
              i++;
              continue;
            }
            if (i + 1 < length) {
              if (b[i + 1] === QUOTE) {
                quoting = ESCAPED;
                i += 2;
                continue;
              }
              closed = true;
            } else closed = final;
            break;
          }
          if (!closed) {
            if (!final) {
              pos = recordStart;
              line = recordLine;
              break outer;
            }
            view.line = recordLine;
            view.count = n;
            view.error = `unterminated quoted field starting on line ${recordLine}`;
            line += countLineBreaks(b, recordStart, length);
            pos = length;
            if (onRecord(view) === true) paused = true;
            break outer;
          }
          view.starts[n] = from;
          view.ends[n] = i;
          view.quoting[n] = quoting;
          n++;
          pos = i + 1;
          if (pos >= length) break;
          const next = b[pos];
          if (next === delim) {
            pos++;
            continue;
          }
          if (next === LF || next === CR) break;
          error ??= `unexpected text after the closing quote of field ${n}`;
          // Skip the rest of the broken field.
          while (pos < length && b[pos] !== delim && b[pos] !== LF && b[pos] !== CR) pos++;
          if (pos < length && b[pos] === delim) {
            pos++;
            continue;
          }
          break;
        }
        // Unquoted field: up to the next delimiter or line end.
        let i = pos;
        while (i < length) {
          const ch = b[i]!;
          if (ch === delim || ch === LF || ch === CR) break;
          i++;
        }
        view.starts[n] = pos;
        view.ends[n] = i;
        view.quoting[n] = UNQUOTED;
        n++;
        pos = i;
        if (pos < length && b[pos] === delim) {
          pos++;
          if (pos < length) continue;
          if (!final) break;
          // A trailing delimiter at the very end: one more, empty, field.
          view.reserve(n);
          view.starts[n] = view.ends[n] = pos;
          view.quoting[n] = UNQUOTED;
          n++;
        }
        break;
      }
      // At a line end or the end of the input; a record is complete only once its line end is seen.
      if (pos >= length && !final) {
        pos = recordStart;
        line = recordLine;
        break;
      }
      // Only a quoted field can hold line breaks inside the record.
      if (quotedRecord) line += countLineBreaks(b, recordStart, pos);
      if (pos < length) {
        if (b[pos] === CR) {
          if (pos + 1 >= length && !final) {
            pos = recordStart;
            line = recordLine;
            break;
          }
          pos += b[pos + 1] === LF ? 2 : 1;
        } else pos++;
        line++;
      }
      view.line = recordLine;
      view.count = n;
      view.error = error;
      if (onRecord(view) === true) {
        paused = true;
        break;
      }
    }
    this.start = pos;
    this.line = line;
    return paused;
  }

  /** Skips a BOM and detects the delimiter once enough input is there; false while it is not. */
  private prepare(final: boolean): boolean {
    if (!this.started) {
      const available = this.end - this.start;
      if (available < BOM.length && !final) return false;
      if (available >= BOM.length && BOM.every((byte, i) => this.buffer[this.start + i] === byte)) {
        this.start += BOM.length;
      }
      this.started = true;
    }
    if (this.delimiter === undefined) {
      let lineEnd = this.start;
      while (lineEnd < this.end && this.buffer[lineEnd] !== LF && this.buffer[lineEnd] !== CR) lineEnd++;
      if (lineEnd === this.end && !final) return false;
      this.delimiter = detectDelimiter(this.buffer.toString('latin1', this.start, lineEnd)).charCodeAt(0);
    }
    return true;
  }
}

function countLineBreaks(bytes: Uint8Array, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const ch = bytes[i];
    if (ch === LF) n++;
    else if (ch === CR && bytes[i + 1] !== LF) n++;
  }
  return n;
}
