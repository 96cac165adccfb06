import { describe, expect, it } from 'vitest';
import {
  CsvScanner,
  detectDelimiter,
  type CsvRecordView,
  type Delimiter,
} from '../../src/data/csv-scanner.ts';

interface CsvRecord {
  line: number;
  fields: Array<string | null>;
  error?: string;
}

function decoded(r: CsvRecordView): CsvRecord {
  return r.error ? { line: r.line, fields: r.texts(), error: r.error } : { line: r.line, fields: r.texts() };
}

/** Feeds the text's UTF-8 bytes in chunks of `chunkSize`, draining after each, then ends. */
function parseAll(text: string, delimiter?: Delimiter, chunkSize?: number): CsvRecord[] {
  const bytes = Buffer.from(text, 'utf8');
  const size = chunkSize ?? (bytes.length || 1);
  const scanner = new CsvScanner(delimiter);
  const out: CsvRecord[] = [];
  const collect = (r: CsvRecordView) => void out.push(decoded(r));
  for (let i = 0; i < bytes.length; i += size) {
    scanner.push(bytes.subarray(i, i + size));
    scanner.drain(false, collect);
  }
  scanner.drain(true, collect);
  return out;
}

/** Splits the bytes in two at every position (inside multi-byte characters too): records must not change. */
function parseAtEverySplit(text: string, delimiter?: Delimiter): CsvRecord[] {
  const whole = parseAll(text, delimiter);
  const bytes = Buffer.from(text, 'utf8');
  for (let cut = 0; cut <= bytes.length; cut++) {
    const scanner = new CsvScanner(delimiter);
    const out: CsvRecord[] = [];
    const collect = (r: CsvRecordView) => void out.push(decoded(r));
    scanner.push(bytes.subarray(0, cut));
    scanner.drain(false, collect);
    scanner.push(bytes.subarray(cut));
    scanner.drain(false, collect);
    scanner.drain(true, collect);
    expect(out, `split at byte ${cut}`).toEqual(whole);
  }
  return whole;
}

describe('CSV scanner', () => {
  it('reads quoted fields, doubled quotes and embedded line breaks with the physical start line', () => {
    const records = parseAtEverySplit('id,note\n1,"say ""hi"""\n2,"two\nlines"\n3,"a,b"\n');
    expect(records).toEqual([
      { line: 1, fields: ['id', 'note'] },
      { line: 2, fields: ['1', 'say "hi"'] },
      { line: 3, fields: ['2', 'two\nlines'] },
      { line: 5, fields: ['3', 'a,b'] },
    ]);
  });

  it('tells an unquoted empty field (null) from a quoted empty one (empty string)', () => {
    expect(parseAll('a,b,c\n,"",x\n')[1]!.fields).toEqual([null, '', 'x']);
    expect(parseAll('a,b\n1,\n')[1]!.fields).toEqual(['1', null]);
  });

  it('accepts CRLF, CR and LF line ends, a BOM, and skips blank lines while counting them', () => {
    for (const eol of ['\n', '\r\n', '\r']) {
      const records = parseAtEverySplit(`\uFEFFid${eol}1${eol}${eol}2${eol}`);
      expect(records.map((r) => [r.line, r.fields])).toEqual([
        [1, ['id']],
        [2, ['1']],
        [4, ['2']],
      ]);
    }
  });

  it('keeps a CRLF inside quotes as it is and counts it as one line', () => {
    const records = parseAtEverySplit('a,b\r\n"x\r\ny",z\r\nlast,1');
    expect(records[1]).toEqual({ line: 2, fields: ['x\r\ny', 'z'] });
    expect(records[2]).toEqual({ line: 4, fields: ['last', '1'] });
  });

  it('detects ; and tab delimiters from the header, ignoring delimiters inside quotes', () => {
    expect(detectDelimiter('a;b;c')).toBe(';');
    expect(detectDelimiter('a\tb\tc')).toBe('\t');
    expect(detectDelimiter('"x;y;z",b,c')).toBe(',');
    expect(parseAll('id;name\n1;"Ann; Bob"\n')[1]!.fields).toEqual(['1', 'Ann; Bob']);
    expect(parseAll('id\tname\n1\tAnn\n')[1]!.fields).toEqual(['1', 'Ann']);
    // A given delimiter wins over detection.
    expect(parseAll('a;b,c\n1;2,3\n', ',')[1]!.fields).toEqual(['1;2', '3']);
  });

  it('reports an unterminated quote and text after a closing quote as record errors, and goes on', () => {
    const broken = parseAll('a,b\n"x"y,2\n3,4\n5,"open\n6,7\n');
    expect(broken[1]).toMatchObject({ line: 2, error: 'unexpected text after the closing quote of field 1' });
    expect(broken[2]).toEqual({ line: 3, fields: ['3', '4'] });
    expect(broken[3]).toMatchObject({ line: 4, error: 'unterminated quoted field starting on line 4' });
    expect(broken).toHaveLength(4);
  });

  it('handles empty input, a lone header, a missing final newline and a trailing delimiter', () => {
    expect(parseAll('')).toEqual([]);
    expect(parseAll('\uFEFF')).toEqual([]);
    expect(parseAll('id,name')).toEqual([{ line: 1, fields: ['id', 'name'] }]);
    expect(parseAtEverySplit('a,b,c\n1,2,\n')[1]!.fields).toEqual(['1', '2', null]);
    expect(parseAll('a,b,c\n1,2,')[1]!.fields).toEqual(['1', '2', null]);
  });

  it('gives the same records whatever the chunk size', () => {
    const rows = Array.from(
      { length: 200 },
      (_, i) => `${i},"name ${i}\nline2","q""${i}",${i % 3 === 0 ? '' : 'x'}`,
    );
    const text = `id,name,quote,flag\r\n${rows.join('\r\n')}\r\n`;
    const whole = parseAll(text);
    expect(whole).toHaveLength(201);
    for (const size of [1, 2, 3, 7, 64, 1000]) expect(parseAll(text, undefined, size)).toEqual(whole);
    expect(whole[200]).toEqual({ line: 400, fields: ['199', 'name 199\nline2', 'q"199', 'x'] });
  });

  it('finds the same boundaries in bytes as in text, for any Unicode, at any split', () => {
    const records = parseAtEverySplit('name,note\n"Zoë ""🎉""",日本語\né,"a\nß"\n');
    expect(records.map((r) => r.fields)).toEqual([
      ['name', 'note'],
      ['Zoë "🎉"', '日本語'],
      ['é', 'a\nß'],
    ]);
  });

  it('pauses after a record when asked and goes on from there', () => {
    const scanner = new CsvScanner();
    scanner.push(Buffer.from('a\n1\n2\n3\n'));
    const seen: string[] = [];
    expect(scanner.drain(false, (r) => (seen.push(r.text(0)!), r.text(0) === '1'))).toBe(true);
    expect(seen).toEqual(['a', '1']);
    // More input may arrive while paused; nothing is lost or repeated.
    scanner.push(Buffer.from('4'));
    expect(scanner.drain(false, (r) => void seen.push(r.text(0)!))).toBe(false);
    expect(scanner.drain(true, (r) => void seen.push(r.text(0)!))).toBe(false);
    expect(seen).toEqual(['a', '1', '2', '3', '4']);
  });

  it('keeps a record longer than its buffer whole, and counts fields beyond the first allocation', () => {
    const long = 'x'.repeat(200_000);
    const wide = Array.from({ length: 300 }, (_, i) => String(i)).join(',');
    const records = parseAll(`a,b\n"${long}",1\n${wide}\n`, undefined, 4096);
    expect(records[1]!.fields).toEqual([long, '1']);
    expect(records[2]!.fields).toHaveLength(300);
    expect(records[2]!.fields[299]).toBe('299');
  });
});
