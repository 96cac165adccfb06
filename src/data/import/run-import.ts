import { randomUUID } from 'node:crypto';
import { statSync } from 'node:fs';
import path from 'node:path';
import type { Database } from '../../db/database.ts';
import { openDedicatedConnection } from '../../db/dedicated-connection.ts';
import { ConflictError, UserError, unreadableFile } from '../../errors.ts';
import { requireSchema, requireTable } from '../../schema/store.ts';
import { CsvReader } from './csv-reader.ts';
import type { HeaderMapping } from './header-mapping.ts';
import { saveImportResult, startImportRecord } from './import-history.ts';
import { PostgresTableWriter } from './postgres-writer.ts';
import { packedBatch } from './packed-rows.ts';
import { rowAsFields } from './record-reader.ts';
import { SqliteTableWriter } from './sqlite-writer.ts';
import type { RowBatch, TableWriter } from './table-writer.ts';
import {
  IMPORT_MODES,
  type ImportMode,
  type ImportOptions,
  type ImportReport,
  type Rejection,
} from './types.ts';

/** Rows handed to the writer at once; with batch commits, the user's batch size instead. */
const WRITE_BATCH = 10_000;
/** Rejections kept in the report itself; the history keeps up to REJECTIONS_STORED for the rejects CSV. */
const REJECTIONS_IN_REPORT = 100;
export const REJECTIONS_STORED = 10_000;
const PROGRESS_EVERY_MS = 250;

/** Imports running in this process, by table: one at a time per table. */
const running = new Set<string>();

class ImportAborted extends Error {}

function checkOptions(options: ImportOptions): {
  mode: ImportMode;
  maxErrors: number;
  batchSize: number | undefined;
} {
  const mode = options.mode ?? 'upsert';
  if (!IMPORT_MODES.includes(mode)) {
    throw new UserError(`Unknown import mode "${String(mode)}"; use one of ${IMPORT_MODES.join(', ')}.`);
  }
  const maxErrors = options.maxErrors ?? 0;
  if (!Number.isInteger(maxErrors) || maxErrors < 0)
    throw new UserError('max-errors must be a whole number ≥ 0.');
  const batchSize = options.batchSize;
  if (batchSize !== undefined && (!Number.isInteger(batchSize) || batchSize < 1)) {
    throw new UserError('batch-size must be a whole number ≥ 1.');
  }
  return { mode, maxErrors, batchSize };
}

/**
 * Imports a CSV file into a customer table: streamed, checked row by row, written set-based, all or
 * nothing unless batch commits are asked for. Every import is recorded in the history with its report.
 */
export async function importCsv(database: Database, options: ImportOptions): Promise<ImportReport> {
  const { mode, maxErrors, batchSize } = checkOptions(options);
  const { schema } = await requireSchema(database);
  const table = requireTable(schema, options.table);
  let totalBytes: number;
  try {
    totalBytes = statSync(options.file).size;
  } catch (error) {
    throw unreadableFile(options.file, error);
  }
  if (running.has(table.name)) {
    throw new ConflictError(`An import into ${table.name} is already running; wait for it to finish.`);
  }
  running.add(table.name);
  const started = Date.now();
  const report: ImportReport = {
    id: randomUUID(),
    table: table.name,
    fileName: options.fileName ?? path.basename(options.file),
    mode,
    dryRun: options.dryRun === true,
    status: 'running',
    rowsRead: 0,
    inserted: 0,
    updated: 0,
    deleted: 0,
    notFound: 0,
    duplicates: 0,
    rejectedRows: 0,
    committedRows: 0,
    rejections: [],
    message: null,
    startedAt: new Date(started).toISOString(),
    finishedAt: null,
    durationMs: 0,
    rowsPerSecond: 0,
  };
  const stored: Rejection[] = [];
  const records: string[][] = [];
  let header: Array<string | null> | undefined;
  let mapping: HeaderMapping | undefined;
  let writer: TableWriter | undefined;
  let bytesRead = 0;
  let lastProgress = 0;

  const progress = (force = false) => {
    const now = Date.now();
    if (!options.onProgress || (!force && now - lastProgress < PROGRESS_EVERY_MS)) return;
    lastProgress = now;
    const elapsedMs = now - started;
    options.onProgress({
      rowsRead: report.rowsRead,
      bytesRead,
      totalBytes,
      rejectedRows: report.rejectedRows,
      elapsedMs,
      rowsPerSecond: elapsedMs > 0 ? Math.round((report.rowsRead * 1000) / elapsedMs) : 0,
    });
  };
  const reject = (rejections: Rejection[], fields: Array<string | null>) => {
    report.rejectedRows++;
    for (const r of rejections) {
      if (report.rejections.length < REJECTIONS_IN_REPORT) report.rejections.push(r);
      if (stored.length < REJECTIONS_STORED) {
        stored.push(r);
        records.push(fields.map((f) => f ?? ''));
      }
    }
    if (!report.dryRun && report.rejectedRows > maxErrors) {
      throw new ImportAborted(
        `${report.rejectedRows} row(s) rejected, more than --max-errors ${maxErrors} allows`,
      );
    }
  };

  const reader = new CsvReader({
    kind: database.kind,
    file: options.file,
    delimiter: options.delimiter,
    target: { kind: 'table', table, mode, mapping: options.mapping },
    batchRows: batchSize ?? WRITE_BATCH,
    inWorker: options.readInWorker,
  });
  // One batch is written while the reader works on the next: the writer's database (a PostgreSQL server,
  // or SQLite on this thread) and the reading worker run at the same time.
  let inFlight: Promise<void> = Promise.resolve();
  const write = async (batch: RowBatch) => {
    const outcome = await writer!.writeBatch(batch);
    // Rejections first: when they abort the import, this batch's counts never happened.
    const byLine =
      outcome.rejections.length > 0 ? new Map(batch.rows().map((row) => [row.line, row])) : undefined;
    for (const r of outcome.rejections) {
      const row = byLine?.get(r.line);
      reject([r], row ? rowAsFields(row, mapping!, database.dialect) : []);
    }
    report.inserted += outcome.inserted;
    report.updated += outcome.updated;
    report.deleted += outcome.deleted;
    report.notFound += outcome.notFound;
    report.duplicates += outcome.duplicates;
    if (batchSize && !report.dryRun) {
      await writer!.commit();
      report.committedRows += batch.count - outcome.rejections.length;
      await writer!.begin();
    }
  };

  await startImportRecord(database, report);
  try {
    for await (const message of reader) {
      if (message.type === 'failed') {
        throw message.user
          ? new UserError(message.message, { issues: message.issues })
          : new Error(message.message);
      }
      if (message.type === 'header') {
        header = message.header;
        mapping = message.mapping;
        const connection = await openDedicatedConnection(database);
        const context = {
          connection,
          dialect: database.dialect,
          table,
          columns: mapping.columns.map((m) => m.column),
          mode,
        };
        writer =
          connection.kind === 'sqlite' ? new SqliteTableWriter(context) : new PostgresTableWriter(context);
        await writer.open();
        await writer.begin();
        continue;
      }
      report.rowsRead = message.rowsRead;
      bytesRead = message.bytesRead;
      if (message.type === 'end') break;
      for (const { rejections, fields } of message.rejected) reject(rejections, fields);
      await inFlight;
      if (message.rows.lines.length > 0) {
        inFlight = write(packedBatch(message.rows));
        // Its failure is awaited (and thrown) at the next batch; until then it must not count as unhandled.
        inFlight.catch(() => undefined);
      }
      reader.ack();
      if (options.signal?.aborted) throw new ImportAborted('stopped by the user');
      progress();
    }
    await inFlight;
    if (!writer) {
      report.message = 'the file is empty: no header and no rows';
    } else if (report.dryRun) {
      await writer.rollback();
      report.message = 'dry run: nothing was written';
    } else {
      await writer.commit();
      report.committedRows = report.rowsRead - report.rejectedRows;
    }
    report.status = 'succeeded';
  } catch (error) {
    // The batch being written must settle before the transaction is rolled back on the same connection;
    // with batch commits it commits, since its rows all came before the row that aborted.
    await inFlight.catch(() => undefined);
    if (writer) await writer.rollback().catch(() => undefined);
    if (error instanceof ImportAborted) {
      report.status = options.signal?.aborted ? 'stopped' : 'failed';
      report.message = `${error.message}; ${
        batchSize
          ? `the ${report.committedRows} rows of earlier batches stay committed.`
          : 'nothing was written.'
      }`;
    } else {
      report.status = 'failed';
      report.message =
        error instanceof UserError ? error.message : `internal error: ${(error as Error).message}`;
      await finish();
      throw error;
    }
  }
  await finish();
  return report;

  async function finish() {
    await reader.stop();
    await writer?.close().catch(() => undefined);
    running.delete(table.name);
    const finished = Date.now();
    report.finishedAt = new Date(finished).toISOString();
    report.durationMs = finished - started;
    report.rowsPerSecond =
      report.durationMs > 0 ? Math.round((report.rowsRead * 1000) / report.durationMs) : 0;
    if (report.status !== 'succeeded' && !batchSize) {
      // All or nothing: the transaction was rolled back, so no row was inserted, updated or deleted.
      Object.assign(report, {
        inserted: 0,
        updated: 0,
        deleted: 0,
        notFound: 0,
        duplicates: 0,
        committedRows: 0,
      });
    }
    bytesRead = totalBytes;
    progress(true);
    await saveImportResult(database, report, header, stored, records);
  }
}
