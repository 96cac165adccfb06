import { describe, expect, it } from 'vitest';
import { CsvParser, detectDelimiter, type CsvRecord, type Delimiter } from '../../src/data/csv-parser.ts';

function parseAll(text: string, delimiter?: Delimiter, chunkSize = text.length || 1): CsvRecord[] {
  const parser = new CsvParser(delimiter);
  const out: CsvRecord[] = [];
  for (let i = 0; i < text.length; i += chunkSize) out.push(...parser.push(text.slice(i, i + chunkSize)));
  out.push(...parser.end());
  return out;
}

/** Splits the text in two at every position: the records must never depend on where chunks end. */
function parseAtEverySplit(text: string, delimiter?: Delimiter): CsvRecord[] {
  const whole = parseAll(text, delimiter);
  for (let cut = 0; cut <= text.length; cut++) {
    const parser = new CsvParser(delimiter);
    const out = [...parser.push(text.slice(0, cut)), ...parser.push(text.slice(cut)), ...parser.end()];
    expect(out, `split at ${cut}`).toEqual(whole);
  }
  return whole;
}

describe('CSV parser', () => {
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
});
