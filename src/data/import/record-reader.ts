import type { SqlDialect } from '../../db/dialect.ts';
import type { TableDef } from '../../schema/types.ts';
import { parseCell } from '../cell-values.ts';
import type { CsvRecord } from '../csv-parser.ts';
import type { HeaderMapping } from './header-mapping.ts';
import type { StagedRow } from './table-writer.ts';
import type { ImportMode, Rejection } from './types.ts';

/**
 * Checks one CSV record and encodes its values into `values` (reused from row to row, so reading makes
 * no array per row). Returns the row's change kind, or the reasons it is rejected.
 */
export function readRecord(
  record: CsvRecord,
  mapping: HeaderMapping,
  table: TableDef,
  mode: ImportMode,
  dialect: SqlDialect,
  values: Array<string | null>,
): 'u' | 'd' | Rejection[] {
  if (record.error) return [{ line: record.line, column: null, value: null, reason: record.error }];
  if (record.fields.length !== mapping.width) {
    return [
      {
        line: record.line,
        column: null,
        value: null,
        reason: `expected ${mapping.width} fields as in the header, found ${record.fields.length}`,
      },
    ];
  }
  let op: 'u' | 'd' = mode === 'delete' ? 'd' : 'u';
  const problems: Rejection[] = [];
  if (mapping.changeField !== undefined) {
    const change = record.fields[mapping.changeField] ?? null;
    if (change === 'u' || change === 'd') op = change;
    else {
      const hint = change === 'U' || change === 'D' ? ' (lowercase)' : '';
      problems.push({
        line: record.line,
        column: '_change',
        value: change,
        reason: `must be u (upsert) or d (delete)${hint}`,
      });
    }
  }
  for (let i = 0; i < mapping.columns.length; i++) {
    const { column, field } = mapping.columns[i]!;
    const isKey = table.primaryKey.includes(column.name);
    if (op === 'd' && !isKey) {
      values[i] = dialect.encodeForBulk(column.type, null);
      continue;
    }
    const text = record.fields[field] ?? null;
    const parsed = parseCell(column, text);
    if (!parsed.ok)
      problems.push({ line: record.line, column: column.name, value: text, reason: parsed.reason });
    else if (isKey && parsed.value === null) {
      problems.push({
        line: record.line,
        column: column.name,
        value: text,
        reason: 'missing primary key value',
      });
    } else values[i] = dialect.encodeForBulk(column.type, parsed.value);
  }
  return problems.length > 0 ? problems : op;
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
