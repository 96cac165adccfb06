import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql, type RawBuilder } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import type { Database } from '../db/database.ts';
import { packedBatch, type PackedRows } from './import/packed-rows.ts';
import { MAX_PARAMETERS } from './import/sqlite-writer.ts';

/** Rows per INSERT on SQLite: fewer statements to build and run, within SQLite's parameter limit. */
const ROWS_PER_INSERT = 500;

/**
 * Writes batches of packed rows (checked and encoded by the CSV reader, packed-rows.ts) into a table that
 * is not a customer table (a working table of a run), all or nothing, and returns how many rows it wrote.
 * PostgreSQL takes the bytes as they are through one COPY; SQLite binds the values as text in multi-row
 * INSERTs inside one transaction, and the columns' affinity stores numbers as numbers, as imports do.
 * `columns` are validated names (the schema's, or a load-file's declared ones), in the rows' order.
 */
export async function insertPackedRows(
  database: Database,
  table: RawBuilder<unknown>,
  columns: string[],
  batches: AsyncIterable<PackedRows>,
): Promise<number> {
  const names = sql.join(columns.map((c) => sql.id(c)));
  let count = 0;
  if (database.kind === 'postgres') {
    const statement = sql`COPY ${table} (${names}) FROM STDIN`.compile(database.db).sql;
    async function* bytes() {
      for await (const packed of batches) {
        count += packed.lines.length;
        if (packed.bytes.length > 0)
          yield Buffer.from(packed.bytes.buffer, packed.bytes.byteOffset, packed.bytes.byteLength);
      }
    }
    const client = await database.pool!.connect();
    try {
      await pipeline(Readable.from(bytes()), client.query(copyFrom(statement)));
      client.release();
    } catch (error) {
      // A COPY cut short can leave the connection mid-protocol: it goes, rather than back to the pool.
      client.release(error as Error);
      throw error;
    }
    return count;
  }
  const perInsert = Math.max(1, Math.min(ROWS_PER_INSERT, Math.floor(MAX_PARAMETERS / columns.length)));
  await database.db.transaction().execute(async (trx) => {
    for await (const packed of batches) {
      const values = packedBatch(packed).values();
      const rows = packed.lines.length;
      for (let from = 0; from < rows; from += perInsert) {
        const tuples = [];
        for (let row = from; row < Math.min(rows, from + perInsert); row++) {
          tuples.push(sql`(${sql.join(values.slice(row * columns.length, (row + 1) * columns.length))})`);
        }
        await sql`INSERT INTO ${table} (${names}) VALUES ${sql.join(tuples)}`.execute(trx);
      }
      count += rows;
    }
  });
  return count;
}
