import type { SqlDialect } from '../../db/dialect.ts';
import type { TableDef } from '../../schema/types.ts';
import type { CsvRecord } from '../csv-parser.ts';
import { CellRejection, cellEncoder, type CellEncoder } from './cell-encoder.ts';
import type { HeaderMapping } from './header-mapping.ts';
import type { StagedRow } from './table-writer.ts';
import type { ImportMode, Rejection } from './types.ts';

/**
 * Checks CSV records against the mapped columns and encodes their values for the database. Everything
 * that depends only on the columns (encoders, which ones are keys) is worked out once, not per row.
 */
export class RecordReader {
  private readonly encoders: CellEncoder[];
  private readonly isKey: boolean[];
  private readonly nulls: Array<string | null>;
  /** The last accepted record's encoded values (reused from row to row: reading makes no array per row). */
  readonly values: Array<string | null>;

  constructor(
    private readonly mapping: HeaderMapping,
    table: TableDef,
    private readonly mode: ImportMode,
    dialect: SqlDialect,
  ) {
    this.encoders = mapping.columns.map(({ column }) => cellEncoder(column, dialect));
    this.isKey = mapping.columns.map(({ column }) => table.primaryKey.includes(column.name));
    this.nulls = mapping.columns.map(({ column }) => dialect.encodeForBulk(column.type, null));
    this.values = new Array<string | null>(mapping.columns.length);
  }

  /** Reads one record into `values`; returns its change kind, or the reasons it is rejected. */
  read(record: CsvRecord): 'u' | 'd' | Rejection[] {
    const { mapping } = this;
    if (record.error) return [{ line: record.line, column: null, value: null, reason: record.error }];
    if (record.fields.length !== mapping.width) {
      const reason = `expected ${mapping.width} fields as in the header, found ${record.fields.length}`;
      return [{ line: record.line, column: null, value: null, reason }];
    }
    let op: 'u' | 'd' = this.mode === 'delete' ? 'd' : 'u';
    let problems: Rejection[] | undefined;
    if (mapping.changeField !== undefined) {
      const change = record.fields[mapping.changeField] ?? null;
      if (change === 'u' || change === 'd') op = change;
      else {
        const hint = change === 'U' || change === 'D' ? ' (lowercase)' : '';
        const reason = `must be u (upsert) or d (delete)${hint}`;
        (problems ??= []).push({ line: record.line, column: '_change', value: change, reason });
      }
    }
    for (let i = 0; i < mapping.columns.length; i++) {
      const isKey = this.isKey[i]!;
      if (op === 'd' && !isKey) {
        this.values[i] = this.nulls[i]!;
        continue;
      }
      const text = record.fields[mapping.columns[i]!.field] ?? null;
      const encoded = this.encoders[i]!(text);
      if (encoded instanceof CellRejection) {
        const column = mapping.columns[i]!.column.name;
        (problems ??= []).push({ line: record.line, column, value: text, reason: encoded.reason });
      } else if (isKey && encoded === this.nulls[i]) {
        const column = mapping.columns[i]!.column.name;
        (problems ??= []).push({
          line: record.line,
          column,
          value: text,
          reason: 'missing primary key value',
        });
      } else this.values[i] = encoded;
    }
    return problems ?? op;
  }
}

/**
 * A staged row back as CSV fields in the file's layout, for the rejects file of a row that was valid but
 * refused by the table (a duplicate key): its values print so that an import reads them the same.
 */
export function rowAsFields(row: StagedRow, mapping: HeaderMapping, dialect: SqlDialect): string[] {
  const fields = new Array<string>(mapping.width).fill('');
  mapping.columns.forEach(({ field }, i) => {
    fields[field] = dialect.bulkValueText(row.values[i] ?? null);
  });
  if (mapping.changeField !== undefined) fields[mapping.changeField] = row.op;
  return fields;
}
