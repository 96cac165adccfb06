import type { BulkValues } from '../../db/bulk-values.ts';
import type { CsvRecordView } from '../csv-scanner.ts';
import { fieldEncoder, type FieldEncoder } from './field-encoder.ts';
import type { HeaderMapping } from './header-mapping.ts';
import type { PackedRowsBuilder } from './packed-rows.ts';
import type { StagedRow } from './table-writer.ts';
import type { ImportMode, Rejection } from './types.ts';

const U = 117;
const D = 100;

/**
 * Checks CSV records against the mapped columns and writes their encoded values into a packed batch.
 * Everything that depends only on the columns (encoders, which ones are keys) is worked out once, not per
 * row; a record's text is decoded only to report what is wrong with it.
 */
export class RecordReader {
  private readonly encoders: FieldEncoder[];
  private readonly isKey: boolean[];

  /**
   * `keys`: the primary key's columns, which a row must fill. `numbered`: every row starts with its line
   * number, the key of a loaded file's rows (load-file), ahead of the mapped columns.
   */
  constructor(
    private readonly mapping: HeaderMapping,
    keys: readonly string[],
    private readonly mode: ImportMode,
    dialect: BulkValues,
    private readonly numbered = false,
  ) {
    this.encoders = mapping.columns.map(({ column }) => fieldEncoder(column, dialect));
    this.isKey = mapping.columns.map(({ column }) => keys.includes(column.name));
  }

  /** Adds one record to `out`; returns its change kind, or the reasons it is rejected (`out` unchanged). */
  read(record: CsvRecordView, out: PackedRowsBuilder): 'u' | 'd' | Rejection[] {
    const { mapping } = this;
    const line = record.line;
    if (record.error) return [{ line, column: null, value: null, reason: record.error }];
    if (record.count !== mapping.width) {
      const reason = `expected ${mapping.width} fields as in the header, found ${record.count}`;
      return [{ line, column: null, value: null, reason }];
    }
    let op: 'u' | 'd' = this.mode === 'delete' ? 'd' : 'u';
    let problems: Rejection[] | undefined;
    const change = mapping.changeField;
    if (change !== undefined) {
      const at = record.starts[change]!;
      const code = record.ends[change]! - at === 1 ? record.bytes[at] : undefined;
      if (code === U || code === D) op = code === U ? 'u' : 'd';
      else {
        const value = record.text(change);
        const hint = value === 'U' || value === 'D' ? ' (lowercase)' : '';
        const reason = `must be u (upsert) or d (delete)${hint}`;
        (problems ??= []).push({ line, column: '_change', value, reason });
      }
    }
    out.beginRow();
    if (this.numbered) out.integerValue(line);
    for (let i = 0; i < mapping.columns.length; i++) {
      const isKey = this.isKey[i]!;
      if (op === 'd' && !isKey) {
        out.nullValue();
        continue;
      }
      const field = mapping.columns[i]!.field;
      const reason = this.encoders[i]!(record, field, out);
      if (reason !== undefined || (isKey && out.lastWasNull)) {
        (problems ??= []).push({
          line,
          column: mapping.columns[i]!.column.name,
          value: record.text(field),
          reason: reason ?? 'missing primary key value',
        });
      }
    }
    if (problems) {
      out.cancelRow();
      return problems;
    }
    out.endRow(line, op);
    return op;
  }
}

/**
 * A staged row back as CSV fields in the file's layout, for the rejects file of a row that was valid but
 * refused by the table (a duplicate key): its values print so that an import reads them the same.
 */
export function rowAsFields(row: StagedRow, mapping: HeaderMapping, dialect: BulkValues): string[] {
  const fields = new Array<string>(mapping.width).fill('');
  mapping.columns.forEach(({ field }, i) => {
    fields[field] = dialect.bulkValueText(row.values[i] ?? null);
  });
  if (mapping.changeField !== undefined) fields[mapping.changeField] = row.op;
  return fields;
}
