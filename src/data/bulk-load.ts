import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { openDedicatedConnection } from '../db/dedicated-connection.ts';
import { UserError } from '../errors.ts';
import type { CellValue, TableDef } from '../schema/types.ts';
import { PostgresTableWriter } from './import/postgres-writer.ts';
import { SqliteTableWriter } from './import/sqlite-writer.ts';
import { stagedBatch, type StagedRow, type TableWriter } from './import/table-writer.ts';

/** Loads rows that are already typed (generated data) with the import's insert path. */
export interface BulkSource {
  table: TableDef;
  columns: string[];
  rows: Iterable<CellValue[]>;
}

const BATCH = 50_000;

/**
 * Inserts every source in one transaction, so a half-loaded workspace is never visible. With `replace`,
 * the tables are emptied first inside the same transaction (children before parents: sources are given
 * in load order, so they are emptied in reverse).
 */
export async function bulkInsert(
  database: Database,
  sources: BulkSource[],
  options: { replace?: boolean; onProgress?: (table: string, rows: number) => void } = {},
): Promise<Record<string, number>> {
  const connection = await openDedicatedConnection(database);
  const counts: Record<string, number> = {};
  let writer: TableWriter | undefined;
  await database.dialect.beginWrite().execute(connection.kysely);
  try {
    if (options.replace) {
      for (const source of [...sources].reverse()) {
        await sql`DELETE FROM ${database.dialect.dataTableRef(source.table.name)}`.execute(connection.kysely);
      }
    }
    for (const source of sources) {
      const columns = source.columns.map((name) => {
        const column = source.table.columns.find((c) => c.name === name);
        if (!column) throw new UserError(`${source.table.name} has no column ${name}.`);
        return column;
      });
      const context = {
        connection,
        dialect: database.dialect,
        table: source.table,
        columns,
        mode: 'insert' as const,
      };
      writer =
        connection.kind === 'sqlite' ? new SqliteTableWriter(context) : new PostgresTableWriter(context);
      await writer.open();
      let batch: StagedRow[] = [];
      let count = 0;
      const flush = async () => {
        const outcome = await writer!.writeBatch(stagedBatch(batch));
        const first = outcome.rejections[0];
        if (first) throw new Error(`bulk load of ${source.table.name}, row ${first.line}: ${first.reason}`);
        count += outcome.inserted;
        options.onProgress?.(source.table.name, count);
        batch = [];
      };
      let line = 0;
      const types = columns.map((c) => c.type);
      for (const values of source.rows) {
        const encoded = values.map((v, i) => database.dialect.encodeForBulk(types[i]!, v));
        batch.push({ line: ++line, op: 'u', values: encoded });
        if (batch.length >= BATCH) await flush();
      }
      if (batch.length > 0) await flush();
      counts[source.table.name] = count;
    }
    await sql`COMMIT`.execute(connection.kysely);
    return counts;
  } catch (error) {
    await sql`ROLLBACK`.execute(connection.kysely).catch(() => undefined);
    throw error;
  } finally {
    // The writers share the connection: the last one drops the staging table and closes it.
    await (writer ?? connection).close();
  }
}
