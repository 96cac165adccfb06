import { csvLine } from '../csv-line.ts';
import type { Selectable } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { BatonTables } from '../../db/tables.ts';
import { NotFoundError } from '../../errors.ts';
import type { ImportMode, ImportReport, ImportStatus, Rejection } from './types.ts';

/** The history of imports (`imports`) and their rejected rows (`import_rejections`). */

/** Rejected text is kept as it was, except NUL, which PostgreSQL text cannot hold. */
function storable(text: string): string;
function storable(text: string | null): string | null;
function storable(text: string | null): string | null {
  return text === null ? null : text.replaceAll('\u0000', '\uFFFD');
}

export async function startImportRecord(database: Database, report: ImportReport): Promise<void> {
  await database.db
    .insertInto('imports')
    .values({
      id: report.id,
      table_name: report.table,
      file_name: report.fileName,
      mode: report.mode,
      dry_run: database.dialect.storedBoolean(report.dryRun),
      status: report.status,
      rows_read: 0,
      inserted: 0,
      updated: 0,
      deleted: 0,
      not_found: 0,
      duplicates: 0,
      rejected_rows: 0,
      committed_rows: 0,
      message: null,
      header: null,
      started_at: report.startedAt,
      finished_at: null,
    })
    .execute();
}

export async function saveImportResult(
  database: Database,
  report: ImportReport,
  header: Array<string | null> | undefined,
  rejections: Rejection[],
  records: string[][],
): Promise<void> {
  await database.db.transaction().execute(async (trx) => {
    await trx
      .updateTable('imports')
      .set({
        status: report.status,
        rows_read: report.rowsRead,
        inserted: report.inserted,
        updated: report.updated,
        deleted: report.deleted,
        not_found: report.notFound,
        duplicates: report.duplicates,
        rejected_rows: report.rejectedRows,
        committed_rows: report.committedRows,
        message: report.message,
        header: header ? storable(JSON.stringify(header)) : null,
        finished_at: report.finishedAt,
      })
      .where('id', '=', report.id)
      .execute();
    for (let i = 0; i < rejections.length; i += 500) {
      await trx
        .insertInto('import_rejections')
        .values(
          rejections.slice(i, i + 500).map((r, j) => ({
            import_id: report.id,
            line: r.line,
            column_name: r.column,
            value: storable(r.value),
            reason: r.reason,
            record: storable(JSON.stringify(records[i + j] ?? [])),
          })),
        )
        .execute();
    }
  });
}

/** Imports that were running when their process died are marked interrupted (at server start). */
export async function markInterruptedImports(database: Database): Promise<number> {
  const result = await database.db
    .updateTable('imports')
    .set({
      status: 'interrupted',
      message: 'the process running this import stopped before it finished; nothing was written',
    })
    .where('status', '=', 'running')
    .executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export interface ImportSummary {
  id: string;
  table: string;
  fileName: string;
  mode: ImportMode;
  dryRun: boolean;
  status: ImportStatus;
  rowsRead: number;
  inserted: number;
  updated: number;
  deleted: number;
  notFound: number;
  duplicates: number;
  rejectedRows: number;
  committedRows: number;
  message: string | null;
  startedAt: string;
  finishedAt: string | null;
}

type ImportRow = Selectable<BatonTables['imports']>;

function toSummary(row: ImportRow): ImportSummary {
  return {
    id: row.id,
    table: row.table_name,
    fileName: row.file_name,
    mode: row.mode as ImportMode,
    dryRun: Boolean(row.dry_run),
    status: row.status as ImportStatus,
    rowsRead: Number(row.rows_read),
    inserted: Number(row.inserted),
    updated: Number(row.updated),
    deleted: Number(row.deleted),
    notFound: Number(row.not_found),
    duplicates: Number(row.duplicates),
    rejectedRows: Number(row.rejected_rows),
    committedRows: Number(row.committed_rows),
    message: row.message,
    startedAt: row.started_at,
    finishedAt: row.finished_at,
  };
}

export async function listImports(
  database: Database,
  filter: { table?: string; limit?: number; offset?: number } = {},
): Promise<ImportSummary[]> {
  let query = database.db.selectFrom('imports').selectAll().orderBy('started_at', 'desc').orderBy('id');
  if (filter.table) query = query.where('table_name', '=', filter.table);
  const rows = await query
    .limit(filter.limit ?? 50)
    .offset(filter.offset ?? 0)
    .execute();
  return rows.map(toSummary);
}

export async function getImport(
  database: Database,
  id: string,
): Promise<ImportSummary & { rejections: Rejection[] }> {
  const row = await database.db.selectFrom('imports').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new NotFoundError(`No import with id ${id}.`);
  const rejections = await database.db
    .selectFrom('import_rejections')
    .select(['line', 'column_name', 'value', 'reason'])
    .where('import_id', '=', id)
    .orderBy('line')
    .orderBy('id')
    .limit(100)
    .execute();
  return {
    ...toSummary(row),
    rejections: rejections.map((r) => ({
      line: r.line,
      column: r.column_name,
      value: r.value,
      reason: r.reason,
    })),
  };
}

/**
 * The rejected rows as CSV: the file's own header plus `line` and `reason`, one row per rejected record
 * (its reasons joined), so the file can be fixed and imported again.
 */
export async function rejectsCsv(database: Database, id: string): Promise<string> {
  const row = await database.db
    .selectFrom('imports')
    .select(['header'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`No import with id ${id}.`);
  const header = row.header ? (JSON.parse(row.header) as Array<string | null>).map((h) => h ?? '') : [];
  const rejections = await database.db
    .selectFrom('import_rejections')
    .select(['line', 'column_name', 'reason', 'record'])
    .where('import_id', '=', id)
    .orderBy('line')
    .orderBy('id')
    .execute();
  const lines = [csvLine([...header, 'line', 'reason'])];
  const byLine = new Map<number, { record: string[]; reasons: string[] }>();
  for (const r of rejections) {
    let entry = byLine.get(r.line);
    if (!entry) byLine.set(r.line, (entry = { record: JSON.parse(r.record) as string[], reasons: [] }));
    entry.reasons.push(r.column_name ? `${r.column_name}: ${r.reason}` : r.reason);
  }
  for (const [line, { record, reasons }] of byLine) {
    const fields = header.length > 0 ? header.map((_, i) => record[i] ?? '') : record;
    lines.push(csvLine([...fields, String(line), reasons.join('; ')]));
  }
  return `${lines.join('\n')}\n`;
}
