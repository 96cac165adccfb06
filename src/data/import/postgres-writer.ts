import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import { STAGE, TableWriter, type BatchOutcome, type RowBatch, type StagedRow } from './table-writer.ts';

const UNIQUE_VIOLATION = '23505';

/**
 * PostgreSQL: rows travel by COPY, the fastest way into the server, with values already encoded as COPY
 * text fields by the reading side. Inserts first try COPY straight into the target under a savepoint;
 * only a batch that hits a duplicate key is rolled back to the savepoint and redone through the staging
 * table, which finds exactly the rows that clash.
 */
export class PostgresTableWriter extends TableWriter {
  async open(): Promise<void> {
    await this.run(sql`DROP TABLE IF EXISTS pg_temp.${this.stage}`);
    await this.run(sql`CREATE TEMP TABLE ${this.stage} (${this.stageColumnsDdl()})`);
  }

  private async copy(source: Iterable<string | Uint8Array>, into: 'stage' | 'target'): Promise<void> {
    if (this.ctx.connection.kind !== 'postgres')
      throw new Error('PostgresTableWriter needs a PostgreSQL connection');
    // Identifiers come from the validated schema (lowercase letters, digits, _), so quoting them is safe.
    const names = this.ctx.columns.map((c) => `"${c.name}"`).join(', ');
    const statement =
      into === 'stage'
        ? `COPY ${STAGE} (_line, _op, ${names}) FROM STDIN`
        : `COPY data."${this.ctx.table.name}" (${names}) FROM STDIN`;
    const copy = this.ctx.connection.client.query(copyFrom(statement));
    await pipeline(Readable.from(source), copy);
  }

  /**
   * TRUNCATE, not DELETE: nothing vacuums a temporary table, so deleted rows would pile up and every
   * later batch would scan them all again.
   */
  protected override async clearStage(): Promise<void> {
    await this.run(sql`TRUNCATE ${this.stage}`);
  }

  protected fillStage(rows: StagedRow[]): Promise<void> {
    return this.copy(copyLines(rows, true), 'stage');
  }

  override async writeBatch(batch: RowBatch): Promise<BatchOutcome> {
    if (this.ctx.mode !== 'insert') return super.writeBatch(batch);
    await this.run(sql`SAVEPOINT baton_batch`);
    try {
      const ready = batch.copyText();
      await this.copy(ready ? [ready] : copyLines(batch.rows(), false), 'target');
    } catch (error) {
      if ((error as { code?: string }).code !== UNIQUE_VIOLATION) throw error;
      await this.run(sql`ROLLBACK TO SAVEPOINT baton_batch`);
      return super.writeBatch(batch);
    }
    await this.run(sql`RELEASE SAVEPOINT baton_batch`);
    return { inserted: batch.count, updated: 0, deleted: 0, notFound: 0, duplicates: 0, rejections: [] };
  }
}

/** Yields COPY text-format chunks of about 64 KiB. */
function* copyLines(rows: StagedRow[], withLine: boolean): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    chunk += withLine ? `${row.line}\t${row.op}\t${row.values.join('\t')}\n` : `${row.values.join('\t')}\n`;
    if (chunk.length > 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}
