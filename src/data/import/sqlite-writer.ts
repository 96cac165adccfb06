import type BetterSqlite3 from 'better-sqlite3';
import { sql } from 'kysely';
import { STAGE, TableWriter, duplicateKeyReason, type BatchOutcome, type StagedRow } from './table-writer.ts';
import type { Rejection } from './types.ts';

/**
 * SQLite: prepared statements in the import's transaction, fed values already encoded for binding. Inserts
 * skip the staging table and go straight into the target with `ON CONFLICT DO NOTHING`, a row that
 * changes nothing being a duplicate key: the fast path that keeps bulk loads near a bare insert loop.
 */
export class SqliteTableWriter extends TableWriter {
  private stageInsert: BetterSqlite3.Statement | undefined;
  private directInsert: BetterSqlite3.Statement | undefined;

  private get sqlite(): BetterSqlite3.Database {
    if (this.ctx.connection.kind !== 'sqlite') throw new Error('SqliteTableWriter needs a SQLite connection');
    return this.ctx.connection.sqlite;
  }

  async open(): Promise<void> {
    const { dialect, table, columns } = this.ctx;
    await this.run(sql`DROP TABLE IF EXISTS temp.${this.stage}`);
    await this.run(sql`CREATE TEMP TABLE ${this.stage} (${this.stageColumnsDdl()})`);
    const names = columns.map((c) => `"${c.name}"`).join(', ');
    const marks = columns.map(() => '?').join(', ');
    // Identifiers come from the validated schema (lowercase letters, digits, _), so quoting them is safe.
    this.stageInsert = this.sqlite.prepare(
      `INSERT INTO temp.${STAGE} (_line, _op, ${names}) VALUES (?, ?, ${marks})`,
    );
    if (this.ctx.mode === 'insert') {
      this.directInsert = this.sqlite.prepare(
        `INSERT INTO "${dialect.dataTable(table.name)}" (${names}) VALUES (${marks}) ON CONFLICT DO NOTHING`,
      );
    }
  }

  protected fillStage(rows: StagedRow[]): Promise<void> {
    const statement = this.stageInsert!;
    for (const row of rows) statement.run(row.line, row.op, ...row.values);
    return Promise.resolve();
  }

  override async writeBatch(rows: StagedRow[]): Promise<BatchOutcome> {
    if (this.ctx.mode !== 'insert') return super.writeBatch(rows);
    const { columns, table } = this.ctx;
    const statement = this.directInsert!;
    const keyIndexes = table.primaryKey.map((k) => columns.findIndex((c) => c.name === k));
    const rejections: Rejection[] = [];
    let inserted = 0;
    for (const row of rows) {
      if (statement.run(row.values).changes === 1) inserted++;
      else {
        const key = keyIndexes.map((i) => row.values[i]).join(', ');
        rejections.push({
          line: row.line,
          column: table.primaryKey.join(', '),
          value: key,
          reason: duplicateKeyReason(table, key),
        });
      }
    }
    return Promise.resolve({ inserted, updated: 0, deleted: 0, notFound: 0, duplicates: 0, rejections });
  }
}
