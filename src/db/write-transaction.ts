import { sql, type Kysely } from 'kysely';
import type { Database } from './database.ts';
import type { BatonTables } from './tables.ts';

/**
 * Runs `work` in a transaction that will write, on one connection (SQLite: BEGIN IMMEDIATE, see
 * SqlDialect.beginWrite): what a transaction that reads before it writes needs, where another connection
 * may commit in between (the tracking events' writer, a sender, another process).
 */
export function inWriteTransaction<T>(
  database: Database,
  work: (db: Kysely<BatonTables>) => Promise<T>,
): Promise<T> {
  return database.db.connection().execute(async (db) => {
    await database.dialect.beginWrite().execute(db);
    try {
      const result = await work(db);
      await sql`COMMIT`.execute(db);
      return result;
    } catch (error) {
      await sql`ROLLBACK`.execute(db);
      throw error;
    }
  });
}
