import { describe, expect, it } from 'vitest';
import { PackedRowsBuilder, unpackRows } from '../../src/data/import/packed-rows.ts';
import type { StagedRow } from '../../src/data/import/table-writer.ts';

function packRows(rows: StagedRow[]) {
  const builder = new PackedRowsBuilder();
  for (const row of rows) builder.add(row.line, row.op, row.values, row.values.length);
  return builder.take();
}

describe('packed batches (worker → main thread)', () => {
  it('round-trip every value, telling NULL from the empty string and from U+0001 text', () => {
    const rows: StagedRow[] = [
      { line: 2, op: 'u', values: ['1', null, '', '\u0001', '\u0001x', 'tab\tand\nnewline'] },
      { line: 7, op: 'd', values: ['2', 'é🎉', null, null, ' ', '\\N'] },
    ];
    expect(unpackRows(packRows(rows))).toEqual(rows);
  });

  it('starts over empty after take()', () => {
    const builder = new PackedRowsBuilder();
    builder.add(2, 'u', ['a', 'b'], 2);
    expect(unpackRows(builder.take())).toEqual([{ line: 2, op: 'u', values: ['a', 'b'] }]);
    expect(builder.count).toBe(0);
    builder.add(3, 'd', ['c', null], 2);
    expect(unpackRows(builder.take())).toEqual([{ line: 3, op: 'd', values: ['c', null] }]);
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
