import { sql, type RawBuilder } from 'kysely';
import type { DedicatedConnection } from '../../db/dedicated-connection.ts';
import type { SqlDialect } from '../../db/dialect.ts';
import type { ColumnDef, TableDef } from '../../schema/types.ts';
import type { ImportMode, Rejection } from './types.ts';

/**
 * Writes checked rows into a customer table inside the import's own transaction. Rows go into a temporary
 * staging table and set-based statements apply them, so every mode has the same meaning on SQLite and on
 * PostgreSQL: per key the last row wins (upsert, delete, cdc), the first one wins (insert), and the
 * counts say what happened to keys, not to statements.
 */
export interface StagedRow {
  line: number;
  op: 'u' | 'd';
  /** Values of `columns`, in order, encoded for the dialect's bulk path (`SqlDialect.encodeForBulk`). */
  values: Array<string | null>;
}

/**
 * Rows handed to a writer at once. They can always be had as staged rows; a batch read from a CSV file
 * also has them as the bytes of the database's bulk path (see packed-rows.ts), which PostgreSQL sends as
 * they are.
 */
export interface RowBatch {
  readonly count: number;
  rows(): StagedRow[];
  /** Every row's values one row after the other (count × columns), as in `StagedRow.values`. */
  values(): Array<string | null>;
  /** Every row's values as COPY text lines (PostgreSQL), when the batch holds them ready. */
  copyText(): Uint8Array | undefined;
}

export function stagedBatch(rows: StagedRow[]): RowBatch {
  return {
    count: rows.length,
    rows: () => rows,
    values: () => rows.flatMap((row) => row.values),
    copyText: () => undefined,
  };
}

export interface BatchOutcome {
  inserted: number;
  updated: number;
  deleted: number;
  notFound: number;
  duplicates: number;
  rejections: Rejection[];
}

export interface TableWriterContext {
  connection: DedicatedConnection;
  dialect: SqlDialect;
  table: TableDef;
  /** The columns the file fills (always including the primary key). */
  columns: ColumnDef[];
  mode: ImportMode;
}

export const STAGE = 'baton_import_stage';

export function duplicateKeyReason(table: TableDef, key: string): string {
  return `duplicate key (${table.primaryKey.join(', ')} = ${key}): the table or an earlier row of the file already has it`;
}

export abstract class TableWriter {
  protected readonly stage = sql.id(STAGE);
  protected readonly target: RawBuilder<unknown>;
  protected readonly keys: string[];

  constructor(protected readonly ctx: TableWriterContext) {
    this.target = ctx.dialect.dataTableRef(ctx.table.name);
    this.keys = ctx.table.primaryKey;
  }

  /** Creates the staging table and opens the transaction. */
  abstract open(): Promise<void>;
  /** Puts rows into the staging table. */
  protected abstract fillStage(rows: StagedRow[]): Promise<void>;

  protected async run(
    query: RawBuilder<unknown>,
  ): Promise<{ rows: Array<Record<string, unknown>>; changes: number }> {
    const result = await query.execute(this.ctx.connection.kysely);
    return {
      rows: result.rows as Array<Record<string, unknown>>,
      changes: Number(result.numAffectedRows ?? 0),
    };
  }

  async begin(): Promise<void> {
    await this.run(this.ctx.dialect.beginWrite());
  }

  async commit(): Promise<void> {
    await this.run(sql`COMMIT`);
  }

  async rollback(): Promise<void> {
    await this.run(sql`ROLLBACK`);
  }

  async close(): Promise<void> {
    await this.run(sql`DROP TABLE IF EXISTS ${this.stage}`).catch(() => undefined);
    await this.ctx.connection.close();
  }

  protected stageColumnsDdl(): RawBuilder<unknown> {
    return sql.join([
      sql`_line integer NOT NULL`,
      sql`_op text NOT NULL`,
      ...this.ctx.columns.map((c) => sql`${sql.id(c.name)} ${sql.raw(this.ctx.dialect.columnType(c.type))}`),
    ]);
  }

  private columnList(): RawBuilder<unknown> {
    return sql.join(this.ctx.columns.map((c) => sql.id(c.name)));
  }

  private keyList(): RawBuilder<unknown> {
    return sql.join(this.keys.map((k) => sql.id(k)));
  }

  /** `target.k = s.k AND …` for the primary key. */
  private keyMatch(): RawBuilder<unknown> {
    return sql.join(
      this.keys.map((k) => sql`${this.target}.${sql.id(k)} = s.${sql.id(k)}`),
      sql` AND `,
    );
  }

  async writeBatch(batch: RowBatch): Promise<BatchOutcome> {
    await this.fillStage(batch.rows());
    const outcome = this.ctx.mode === 'insert' ? await this.applyInserts() : await this.applyChanges();
    await this.clearStage();
    return outcome;
  }

  /** Empties the staging table for the next batch. */
  protected async clearStage(): Promise<void> {
    await this.run(sql`DELETE FROM ${this.stage}`);
  }

  private async applyInserts(): Promise<BatchOutcome> {
    const losers = sql`s._line NOT IN (SELECT min(_line) FROM ${this.stage} GROUP BY ${this.keyList()})
      OR EXISTS (SELECT 1 FROM ${this.target} WHERE ${this.keyMatch()})`;
    const rejected = await this.run(
      sql`SELECT s._line AS line, ${sql.join(this.keys.map((k) => sql`s.${sql.id(k)}`))} FROM ${this.stage} s WHERE ${losers} ORDER BY s._line`,
    );
    const rejections: Rejection[] = rejected.rows.map((row) => {
      const key = this.keys.map((k) => String(row[k])).join(', ');
      return {
        line: Number(row.line),
        column: this.keys.join(', '),
        value: key,
        reason: duplicateKeyReason(this.ctx.table, key),
      };
    });
    if (rejections.length > 0) await this.run(sql`DELETE FROM ${this.stage} AS s WHERE ${losers}`);
    const inserted = await this.run(
      sql`INSERT INTO ${this.target} (${this.columnList()}) SELECT ${this.columnList()} FROM ${this.stage} WHERE true`,
    );
    return { inserted: inserted.changes, updated: 0, deleted: 0, notFound: 0, duplicates: 0, rejections };
  }

  private async applyChanges(): Promise<BatchOutcome> {
    const superseded = await this.run(
      sql`DELETE FROM ${this.stage} WHERE _line NOT IN (SELECT max(_line) FROM ${this.stage} GROUP BY ${this.keyList()})`,
    );
    const counts = await this.run(sql`
      SELECT
        coalesce(sum(CASE WHEN s._op = 'u' THEN 1 ELSE 0 END), 0) AS upserts,
        coalesce(sum(CASE WHEN s._op = 'u' AND EXISTS (SELECT 1 FROM ${this.target} WHERE ${this.keyMatch()}) THEN 1 ELSE 0 END), 0) AS updated,
        coalesce(sum(CASE WHEN s._op = 'd' THEN 1 ELSE 0 END), 0) AS deletes
      FROM ${this.stage} s`);
    const row = counts.rows[0] ?? {};
    const upserts = Number(row.upserts);
    const updated = Number(row.updated);
    const deletes = Number(row.deletes);
    let deleted = 0;
    if (deletes > 0) {
      const result = await this.run(
        sql`DELETE FROM ${this.target} WHERE EXISTS (SELECT 1 FROM ${this.stage} s WHERE s._op = 'd' AND ${this.keyMatch()})`,
      );
      deleted = result.changes;
    }
    if (upserts > 0) {
      const others = this.ctx.columns.filter((c) => !this.keys.includes(c.name));
      const onConflict =
        others.length === 0
          ? sql`DO NOTHING`
          : sql`DO UPDATE SET ${sql.join(others.map((c) => sql`${sql.id(c.name)} = excluded.${sql.id(c.name)}`))}`;
      await this.run(sql`
        INSERT INTO ${this.target} (${this.columnList()})
        SELECT ${this.columnList()} FROM ${this.stage} WHERE _op = 'u'
        ON CONFLICT (${this.keyList()}) ${onConflict}`);
    }
    return {
      inserted: upserts - updated,
      updated,
      deleted,
      notFound: deletes - deleted,
      duplicates: superseded.changes,
      rejections: [],
    };
  }
}
