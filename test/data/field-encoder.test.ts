import { describe, expect, it } from 'vitest';
import { parseCell } from '../../src/data/cell-values.ts';
import { CsvScanner } from '../../src/data/csv-scanner.ts';
import { fieldEncoder } from '../../src/data/import/field-encoder.ts';
import { NOT_UTF8_REASON, PackedRowsBuilder, packedBatch } from '../../src/data/import/packed-rows.ts';
import { postgresDialect, sqliteDialect, type SqlDialect } from '../../src/db/dialect.ts';
import { COLUMN_TYPES, type ColumnDef } from '../../src/schema/types.ts';

/** The general way: parse to a typed value, then encode it. The encoder's shortcuts must agree with it. */
function generalEncode(column: ColumnDef, field: string | null, dialect: SqlDialect) {
  const parsed = parseCell(column, field);
  return parsed.ok ? dialect.encodeForBulk(column.type, parsed.value) : `rejected: ${parsed.reason}`;
}

/**
 * The field as the first of two CSV fields (a line of one empty field would be a blank line): quoted,
 * and unquoted when nothing in it needs quotes.
 */
function csvForms(field: string | null): Buffer[] {
  if (field === null) return [Buffer.from(',x\n')];
  const forms = [Buffer.from(`"${field.replaceAll('"', '""')}",x\n`)];
  if (field !== '' && !/[",\r\n]/.test(field)) forms.push(Buffer.from(`${field},x\n`));
  return forms;
}

/** Scans one CSV line and encodes its only field; returns the encoded value or the rejection. */
function encodeField(column: ColumnDef, dialect: SqlDialect, line: Buffer): string | null {
  const encode = fieldEncoder(column, dialect);
  const builder = new PackedRowsBuilder(dialect.kind, 1);
  const scanner = new CsvScanner(',');
  scanner.push(line);
  let rejected: string | undefined;
  scanner.drain(true, (record) => {
    builder.beginRow();
    rejected = encode(record, 0, builder);
    if (rejected === undefined) builder.endRow(record.line, 'u');
  });
  if (rejected !== undefined) return `rejected: ${rejected}`;
  return packedBatch(builder.take()).values()[0]!;
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
  'say "hi"',
  'a,b',
  'line\nbreak',
  'cr\rx',
  '-',
  '--1',
  '1-',
  '+',
  '0x10',
  '１２',
  'True',
  'yes ',
  '-123456789012345',
  '0050-01-01',
  '2026-02-30',
  ' 2026-01-01',
  '0099-12-31T00:00:00Z',
  '0100-01-01T00:00:00Z',
  '2024-02-29T12:00:00Z',
  '9999-12-31T23:59:59.999Z',
  '2026-03-01T24:00:00Z',
  '2026-03-01T09:60:00Z',
  '2026-03-01T09:30:60Z',
  '2026-03-01T09:30:00.12Z',
  '2026-03-01T09:30:00,123Z',
  '2026-03-01t09:30:00z',
  '2026-03-01T09:30:00+02:00',
];

describe('field encoder', () => {
  for (const dialect of [sqliteDialect, postgresDialect]) {
    for (const type of COLUMN_TYPES) {
      const columns: ColumnDef[] = [{ name: 'c', type }];
      if (type === 'string') columns.push({ name: 'e', type, values: ['gold', 'silver'] });
      it(`agrees with parse-then-encode for ${type} on ${dialect.kind}, quoted or not`, () => {
        for (const column of columns) {
          for (const field of SAMPLES) {
            for (const line of csvForms(field)) {
              const shown = JSON.stringify(line.toString());
              expect(encodeField(column, dialect, line), shown).toEqual(
                generalEncode(column, field, dialect),
              );
            }
          }
        }
      });

      it(`rejects bytes that are not UTF-8 for ${type} on ${dialect.kind}`, () => {
        const broken = [[0xff], [0x61, 0xc3], [0xed, 0xa0, 0x80], [0x63, 0x61, 0x66, 0xe9]];
        for (const column of columns) {
          for (const bytes of broken) {
            const line = Buffer.concat([Buffer.from(bytes), Buffer.from(',x\n')]);
            expect(encodeField(column, dialect, line)).toBe(`rejected: ${NOT_UTF8_REASON}`);
          }
        }
      });
    }
  }
});
