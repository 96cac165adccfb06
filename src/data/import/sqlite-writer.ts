import type BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import {
  STAGE,
  TableWriter,
  duplicateKeyReason,
  type BatchOutcome,
  type RowBatch,
  type StagedRow,
} from './table-writer.ts';
import type { Rejection } from './types.ts';

/** SQLite's limit on the parameters of one statement. */
export const MAX_PARAMETERS = 32_766;
/** Rows per multi-row INSERT: one call binds many rows, which is cheaper than one call per row. */
const ROWS_PER_INSERT = 32;
const KEY_CONFLICTS = new Set(['SQLITE_CONSTRAINT_PRIMARYKEY', 'SQLITE_CONSTRAINT_UNIQUE']);

/**
 * SQLite: prepared statements in the import's transaction, fed values already encoded for binding.
 * Inserts skip the staging table and go straight into the target, several rows per statement; a
 * statement that meets a duplicate key is undone by SQLite as a whole, and its rows are then inserted one
 * by one with `ON CONFLICT DO NOTHING`, a row that changes nothing being the duplicate. That keeps bulk
 * loads at the speed of a bare insert loop.
 */
export class SqliteTableWriter extends TableWriter {
  private stageInsert: BetterSqlite3.Statement | undefined;
  private manyInsert: BetterSqlite3.Statement | undefined;
  private oneInsert: BetterSqlite3.Statement | undefined;
  private rowsPerInsert = 1;

  private get sqlite(): BetterSqlite3.Database {
    if (this.ctx.connection.kind !== 'sqlite') throw new Error('SqliteTableWriter needs a SQLite connection');
    return this.ctx.connection.sqlite;
  }

  async open(): Promise<void> {
    const { dialect, table, columns } = this.ctx;
    await this.run(sql`DROP TABLE IF EXISTS temp.${this.stage}`);
    await this.run(sql`CREATE TEMP TABLE ${this.stage} (${this.stageColumnsDdl()})`);
    // Identifiers come from the validated schema (lowercase letters, digits, _), so quoting them is safe.
    const names = columns.map((c) => `"${c.name}"`).join(', ');
    const marks = `(${columns.map(() => '?').join(', ')})`;
    this.stageInsert = this.sqlite.prepare(
      `INSERT INTO temp.${STAGE} (_line, _op, ${names}) VALUES (?, ?, ${marks.slice(1)}`,
    );
    if (this.ctx.mode === 'insert') {
      const target = `"${dialect.dataTable(table.name)}" (${names})`;
      this.rowsPerInsert = Math.max(
        1,
        Math.min(ROWS_PER_INSERT, Math.floor(MAX_PARAMETERS / columns.length)),
      );
      this.manyInsert = this.sqlite.prepare(
        `INSERT INTO ${target} VALUES ${new Array<string>(this.rowsPerInsert).fill(marks).join(', ')}`,
      );
      this.oneInsert = this.sqlite.prepare(`INSERT INTO ${target} VALUES ${marks} ON CONFLICT DO NOTHING`);
    }
  }

  protected fillStage(rows: StagedRow[]): Promise<void> {
    const statement = this.stageInsert!;
    for (const row of rows) statement.run(row.line, row.op, ...row.values);
    return Promise.resolve();
  }

  override async writeBatch(batch: RowBatch): Promise<BatchOutcome> {
    if (this.ctx.mode !== 'insert') return super.writeBatch(batch);
    const values = batch.values();
    const width = this.ctx.columns.length;
    const many = this.rowsPerInsert;
    let inserted = 0;
    let duplicates: number[] | undefined;
    let row = 0;
    for (; row + many <= batch.count; row += many) {
      try {
        this.manyInsert!.run(values.slice(row * width, (row + many) * width));
        inserted += many;
      } catch (error) {
        if (!KEY_CONFLICTS.has((error as { code?: string }).code ?? '')) throw error;
        inserted += this.insertOneByOne(values, row, row + many, (duplicates ??= []));
      }
    }
    inserted += this.insertOneByOne(values, row, batch.count, (duplicates ??= []));
    return Promise.resolve({
      inserted,
      updated: 0,
      deleted: 0,
      notFound: 0,
      duplicates: 0,
      rejections: duplicates.length > 0 ? this.duplicateRejections(batch, duplicates) : [],
    });
  }

  /** Inserts rows [from, to) one at a time; pushes the index of each row whose key is already there. */
  private insertOneByOne(
    values: Array<string | null>,
    from: number,
    to: number,
    duplicates: number[],
  ): number {
    const width = this.ctx.columns.length;
    let inserted = 0;
    for (let row = from; row < to; row++) {
      if (this.oneInsert!.run(values.slice(row * width, (row + 1) * width)).changes === 1) inserted++;
      else duplicates.push(row);
    }
    return inserted;
  }

  private duplicateRejections(batch: RowBatch, indexes: number[]): Rejection[] {
    const { columns, table } = this.ctx;
    const keyIndexes = table.primaryKey.map((k) => columns.findIndex((c) => c.name === k));
    const rows = batch.rows();
    return indexes.map((i) => {
      const key = keyIndexes.map((k) => rows[i]!.values[k]).join(', ');
      return {
        line: rows[i]!.line,
        column: table.primaryKey.join(', '),
        value: key,
        reason: duplicateKeyReason(table, key),
      };
    });
  }
}
