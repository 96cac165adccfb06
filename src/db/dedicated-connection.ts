import type BetterSqlite3 from 'better-sqlite3';
import { Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import type pg from 'pg';
import { openSqliteConnection, type Database } from './database.ts';

/**
 * One connection of its own, for work that holds a long transaction (an import, an activity's SQL) without
 * blocking the shared handle: on SQLite a second connection to the same file (WAL lets readers go on), on
 * PostgreSQL a client taken from the pool. It offers Kysely for statements and the raw driver for the bulk
 * paths (prepared-statement loops, COPY).
 */
export type DedicatedConnection =
  | { kind: 'sqlite'; kysely: Kysely<unknown>; sqlite: BetterSqlite3.Database; close(): Promise<void> }
  | { kind: 'postgres'; kysely: Kysely<unknown>; client: pg.PoolClient; close(): Promise<void> };

export async function openDedicatedConnection(database: Database): Promise<DedicatedConnection> {
  if (database.kind === 'sqlite') {
    const sqlite = openSqliteConnection(database.location);
    const kysely = new Kysely<unknown>({ dialect: new SqliteDialect({ database: sqlite }) });
    return { kind: 'sqlite', kysely, sqlite, close: () => kysely.destroy() };
  }
  const client = await database.pool!.connect();
  let released = false;
  const release = () => {
    if (!released) client.release();
    released = true;
  };
  // Kysely sees a pool that always hands out this one client.
  const pool = {
    connect: () => Promise.resolve({ query: client.query.bind(client), release: () => undefined }),
    end: () => Promise.resolve(release()),
  };
  const kysely = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
  return { kind: 'postgres', kysely, client, close: () => kysely.destroy() };
}
