import { describe, expect, it } from 'vitest';
import { parseCell } from '../../src/data/cell-values.ts';
import { CellRejection, cellEncoder } from '../../src/data/import/cell-encoder.ts';
import { postgresDialect, sqliteDialect } from '../../src/db/dialect.ts';
import { COLUMN_TYPES, type ColumnDef } from '../../src/schema/types.ts';

/** The general way: parse to a typed value, then encode it. The encoder's shortcuts must agree with it. */
function generalEncode(column: ColumnDef, field: string | null, dialect: typeof sqliteDialect) {
  const parsed = parseCell(column, field);
  return parsed.ok ? dialect.encodeForBulk(column.type, parsed.value) : `rejected: ${parsed.reason}`;
}

const SAMPLES = [
  null,
  '',
  ' ',
  '0',
  '-0',
  '00',
  '007',
  '+5',
  '-12',
  '42',
  '123456789012345',
  '1234567890123456',
  '9223372036854775807',
  '9223372036854775808',
  '-9223372036854775808',
  '1.5',
  '-0.50',
  '.5',
  '1e3',
  'abc',
  'true',
  'TRUE',
  'false',
  'yes',
  'No',
  '1 ',
  ' 1',
  'constructor',
  '__proto__',
  'toString',
  '2024-02-29',
  '2023-02-29',
  '2026-03-01T09:30:00Z',
  '2026-03-01T09:30:00.123Z',
  '2026-13-01T09:30:00Z',
  '2026-03-01 09:30',
  'tab\there',
  'back\\slash',
  'nul\u0000x',
  '\u0001lead',
  'é🎉',
  'gold',
];

describe('cell encoder', () => {
  for (const dialect of [sqliteDialect, postgresDialect]) {
    for (const type of COLUMN_TYPES) {
      it(`agrees with parse-then-encode for ${type} on ${dialect.kind}`, () => {
        const columns: ColumnDef[] = [{ name: 'c', type }];
        if (type === 'string') columns.push({ name: 'e', type, values: ['gold', 'silver'] });
        for (const column of columns) {
          const encode = cellEncoder(column, dialect);
          for (const field of SAMPLES) {
            const got = encode(field);
            const shown = got instanceof CellRejection ? `rejected: ${got.reason}` : got;
            expect(shown, JSON.stringify(field)).toEqual(generalEncode(column, field, dialect));
          }
        }
      });
    }
  }
});
