/**
 * A streaming CSV reader (RFC 4180 plus the common variants): quoted fields with `""` escapes and embedded
 * line breaks, `\n`, `\r\n` or `\r` line ends, a UTF-8 BOM, and `,` `;` or tab delimiters (detected from
 * the header line when not given). It is ours rather than a library's for two reasons that matter to
 * imports: it tells an unquoted empty field (NULL) from a quoted one (`""`, the empty string), and it knows
 * the physical line each record starts on, so every rejection names the line a person sees in an editor.
 */
export type Delimiter = ',' | ';' | '\t';

export interface CsvRecord {
  /** 1-based physical line where the record starts. */
  line: number;
  /** Unquoted empty fields are null; quoted ones are strings, even when empty. */
  fields: Array<string | null>;
  /** Set when the record is malformed; its fields are then unreliable. */
  error?: string;
}

const QUOTE = 34;
const LF = 10;
const CR = 13;

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

export class CsvParser {
  private delimiter: Delimiter | undefined;
  private delimiterCode = 44;
  private buffer = '';
  private line = 1;
  private started = false;

  constructor(delimiter?: Delimiter) {
    if (delimiter) this.setDelimiter(delimiter);
  }

  get detectedDelimiter(): Delimiter | undefined {
    return this.delimiter;
  }

  private setDelimiter(d: Delimiter): void {
    this.delimiter = d;
    this.delimiterCode = d.charCodeAt(0);
  }

  /** Feeds text; returns the records completed by it. */
  push(chunk: string): CsvRecord[] {
    if (!this.started) {
      if (chunk.length === 0) return [];
      this.started = true;
      if (chunk.charCodeAt(0) === 0xfeff) chunk = chunk.slice(1);
    }
    this.buffer += chunk;
    if (!this.delimiter) {
      const end = this.buffer.search(/[\r\n]/);
      if (end < 0) return [];
      this.setDelimiter(detectDelimiter(this.buffer.slice(0, end)));
    }
    return this.parse(false);
  }

  /** Ends the input; returns the last record (or the error of an unterminated quote). */
  end(): CsvRecord[] {
    if (!this.delimiter) this.setDelimiter(detectDelimiter(this.buffer));
    return this.parse(true);
  }

  private parse(final: boolean): CsvRecord[] {
    const text = this.buffer;
    const length = text.length;
    const delim = this.delimiterCode;
    const records: CsvRecord[] = [];
    let pos = 0;
    let line = this.line;
    outer: while (pos < length) {
      const recordStart = pos;
      const recordLine = line;
      const c0 = text.charCodeAt(pos);
      // A blank line is no record: skip it (it still counts for line numbers).
      if (c0 === LF || c0 === CR) {
        if (c0 === CR && pos + 1 >= length && !final) break;
        pos += c0 === CR && text.charCodeAt(pos + 1) === LF ? 2 : 1;
        line++;
        continue;
      }
      const fields: Array<string | null> = [];
      let error: string | undefined;
      let quoted = false;
      for (;;) {
        if (pos < length && text.charCodeAt(pos) === QUOTE) {
          quoted = true;
          // Quoted field: read to the closing quote, unescaping "" as we go.
          let value = '';
          let from = pos + 1;
          let i = from;
          let closed = false;
          while (i < length) {
            const q = text.indexOf('"', i);
            if (q < 0) break;
            if (q + 1 < length && text.charCodeAt(q + 1) === QUOTE) {
              value += text.slice(from, q + 1);
              i = from = q + 2;
              continue;
            }
            if (q + 1 >= length && !final) break;
            value += text.slice(from, q);
            i = q + 1;
            closed = true;
            break;
          }
          if (!closed) {
            if (!final) {
              pos = recordStart;
              line = recordLine;
              break outer;
            }
            records.push({
              line: recordLine,
              fields,
              error: `unterminated quoted field starting on line ${recordLine}`,
            });
            pos = length;
            line += countLineBreaks(text, recordStart, length);
            break outer;
          }
          fields.push(value);
          pos = i;
          if (pos >= length) break;
          const next = text.charCodeAt(pos);
          if (next === delim) {
            pos++;
            continue;
          }
          if (next === LF || next === CR) break;
          error ??= `unexpected text after the closing quote of field ${fields.length}`;
          // Skip the rest of the broken field.
          while (pos < length) {
            const ch = text.charCodeAt(pos);
            if (ch === delim) break;
            if (ch === LF || ch === CR) break;
            pos++;
          }
          if (pos < length && text.charCodeAt(pos) === delim) {
            pos++;
            continue;
          }
          break;
        }
        // Unquoted field: up to the next delimiter or line end.
        let i = pos;
        while (i < length) {
          const ch = text.charCodeAt(i);
          if (ch === delim || ch === LF || ch === CR) break;
          i++;
        }
        fields.push(i === pos ? null : text.slice(pos, i));
        pos = i;
        if (pos < length && text.charCodeAt(pos) === delim) {
          pos++;
          if (pos >= length && !final) {
            pos = recordStart;
            line = recordLine;
            break outer;
          }
          if (pos >= length) {
            fields.push(null);
            break;
          }
          continue;
        }
        break;
      }
      // At a line end or the end of the text.
      if (pos >= length && !final) {
        pos = recordStart;
        line = recordLine;
        break;
      }
      // Only a quoted field can hold line breaks inside the record.
      if (quoted) line += countLineBreaks(text, recordStart, pos);
      if (pos < length) {
        const ch = text.charCodeAt(pos);
        if (ch === CR) {
          if (pos + 1 >= length && !final) {
            pos = recordStart;
            line = recordLine;
            break;
          }
          pos += text.charCodeAt(pos + 1) === LF ? 2 : 1;
        } else pos++;
        line++;
      }
      records.push(error ? { line: recordLine, fields, error } : { line: recordLine, fields });
    }
    this.buffer = pos >= length ? '' : text.slice(pos);
    this.line = line;
    return records;
  }
}

function countLineBreaks(text: string, from: number, to: number): number {
  let n = 0;
  for (let i = from; i < to; i++) {
    const ch = text.charCodeAt(i);
    if (ch === LF) n++;
    else if (ch === CR && text.charCodeAt(i + 1) !== LF) n++;
  }
  return n;
}
