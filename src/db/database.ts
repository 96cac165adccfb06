import { mkdirSync } from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import { Kysely, Migrator, PostgresDialect, SqliteDialect, type CompiledQuery } from 'kysely';
import pg from 'pg';
import type { BatonConfig } from '../config.ts';
import { UserError } from '../errors.ts';
import { MESSAGE_ID_UDF } from '../delivery/message-id.ts';
import { registerSqliteUdfs } from '../rules/expression/functions/sqlite-udfs.ts';
import { dialectFor, type DatabaseKind, type SqlDialect } from './dialect.ts';
import { batonMigrations } from './migrations/index.ts';
import { SqliteReader } from './sqlite-reader.ts';
import type { BatonTables } from './tables.ts';

/** An open Baton database: the Kysely handle, its dialect helpers, and how to reach it again. */
export interface Database {
  readonly kind: DatabaseKind;
  readonly db: Kysely<BatonTables>;
  readonly dialect: SqlDialect;
  /** SQLite: the database file. PostgreSQL: the connection URL. Used to open extra connections. */
  readonly location: string;
  /** The data folder (BATON_DATA_DIR): files loaded by campaigns, uploads. */
  readonly dataDir: string;
  /** The PostgreSQL pool (for COPY), absent on SQLite. */
  readonly pool: pg.Pool | undefined;
  /**
   * Runs a read-only statement that may be long (rule counts, previews, distributions): on SQLite in a
   * worker thread with its own connection, so the event loop stays free; on PostgreSQL through the pool.
   */
  read<R = Record<string, unknown>>(query: CompiledQuery): Promise<R[]>;
  close(): Promise<void>;
}

export const SQLITE_FILE = 'baton.db';

/**
 * PostgreSQL type parsers: dates stay `YYYY-MM-DD` text (the default turns them into local-time Dates),
 * timestamps become ISO 8601 strings, and 64-bit integers and numerics stay text until a column's type
 * decides how to show them.
 */
const pgTypes: pg.CustomTypesConfig = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary'): ((value: string) => unknown) => {
    if (oid === 1082) return (value: string) => value;
    if (oid === 1184 || oid === 1114) {
      const parseDate = pg.types.getTypeParser(oid, 'text') as (value: string) => Date;
      return (value: string) => parseDate(value).toISOString();
    }
    return pg.types.getTypeParser(oid, format ?? 'text') as (value: string) => unknown;
  }) as pg.CustomTypesConfig['getTypeParser'],
};

/** Opens a better-sqlite3 connection with Baton's settings (WAL, a busy timeout for concurrent writers). */
export function openSqliteConnection(file: string): BetterSqlite3.Database {
  const connection = new BetterSqlite3(file);
  connection.pragma('journal_mode = WAL');
  connection.pragma('synchronous = NORMAL');
  connection.pragma('busy_timeout = 10000');
  connection.pragma('foreign_keys = ON');
  // 64 MiB of page cache (the default is 2 MiB): bulk writes and large scans touch far more pages.
  connection.pragma('cache_size = -65536');
  registerSqliteUdfs(connection);
  connection.function(MESSAGE_ID_UDF.name, { deterministic: true }, MESSAGE_ID_UDF.fn);
  return connection;
}

export function createPgPool(url: string, max = 10): pg.Pool {
  const pool = new pg.Pool({ connectionString: url, max, types: pgTypes, options: '-c TimeZone=UTC' });
  // An idle client that loses its server must not crash the process; the next query reports the error.
  pool.on('error', () => undefined);
  return pool;
}

async function migrate(db: Kysely<BatonTables>, kind: DatabaseKind): Promise<void> {
  const migrator = new Migrator({
    db,
    provider: { getMigrations: () => Promise.resolve(batonMigrations(kind)) },
    migrationTableName: 'baton_migrations',
    migrationLockTableName: 'baton_migrations_lock',
  });
  const { error } = await migrator.migrateToLatest();
  if (error) throw error instanceof Error ? error : new Error(`migration failed: ${JSON.stringify(error)}`);
}

export interface OpenOptions {
  /** Apply Baton's migrations (default true). */
  migrate?: boolean;
  /** SQLite: run `read` statements in a worker thread (default true; the CLI turns it off). */
  readInWorker?: boolean;
}

export async function openDatabase(
  config: Pick<BatonConfig, 'dataDir' | 'databaseUrl'>,
  options: OpenOptions = {},
): Promise<Database> {
  let database: Database;
  if (config.databaseUrl) {
    const pool = createPgPool(config.databaseUrl);
    try {
      const client = await pool.connect();
      client.release();
    } catch (error) {
      await pool.end();
      const url = new URL(config.databaseUrl);
      url.password = url.password ? '***' : '';
      throw new UserError(
        `Cannot connect to PostgreSQL at ${url.toString()}: ${(error as Error).message}. ` +
          'Check DATABASE_URL, or unset it to use the embedded SQLite database.',
        { cause: error },
      );
    }
    const db = new Kysely<BatonTables>({ dialect: new PostgresDialect({ pool }) });
    database = {
      kind: 'postgres',
      db,
      dialect: dialectFor('postgres'),
      location: config.databaseUrl,
      dataDir: config.dataDir,
      pool,
      read: async <R>(query: CompiledQuery) => (await db.executeQuery<R>(query)).rows,
      close: () => db.destroy(),
    };
  } else {
    mkdirSync(config.dataDir, { recursive: true });
    const file = path.join(config.dataDir, SQLITE_FILE);
    const connection = openSqliteConnection(file);
    const db = new Kysely<BatonTables>({ dialect: new SqliteDialect({ database: connection }) });
    // A command-line process has no event loop to keep free: it reads on its own connection.
    const reader = options.readInWorker === false ? undefined : new SqliteReader(file);
    database = {
      kind: 'sqlite',
      db,
      dialect: dialectFor('sqlite'),
      location: file,
      dataDir: config.dataDir,
      pool: undefined,
      read: async <R>(query: CompiledQuery) =>
        reader
          ? ((await reader.read(query.sql, query.parameters)) as R[])
          : (await db.executeQuery<R>(query)).rows,
      close: async () => {
        await reader?.close();
        await db.destroy();
      },
    };
  }
  if (options.migrate !== false) {
    try {
      await migrate(database.db, database.kind);
    } catch (error) {
      await database.close();
      throw error;
    }
  }
  return database;
}
