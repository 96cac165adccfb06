import { describe, expect, it } from 'vitest';
import { packRows, unpackRows } from '../../src/data/import/csv-reader.ts';
import type { StagedRow } from '../../src/data/import/table-writer.ts';

describe('packed batches (worker → main thread)', () => {
  it('round-trip every value, telling NULL from the empty string and from U+0001 text', () => {
    const rows: StagedRow[] = [
      { line: 2, op: 'u', values: ['1', null, '', '\u0001', '\u0001x', 'tab\tand\nnewline'] },
      { line: 7, op: 'd', values: ['2', 'é🎉', null, null, ' ', '\\N'] },
    ];
    expect(unpackRows(packRows(rows))).toEqual(rows);
  });

  it('handles an empty batch and single-column rows', () => {
    expect(unpackRows(packRows([]))).toEqual([]);
    const single: StagedRow[] = [
      { line: 3, op: 'u', values: [''] },
      { line: 4, op: 'u', values: [null] },
    ];
    expect(unpackRows(packRows(single))).toEqual(single);
  });
});
