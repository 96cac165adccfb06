import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { createPgPool, openSqliteConnection } from '../db/database.ts';
import type { DatabaseKind } from '../db/dialect.ts';
import type { BatonTables } from '../db/tables.ts';
import { recordRollups, recordRollupsSync, type RolledEvent } from '../reporting/rollups.ts';

/**
 * The write side of tracking: batches of event rows inserted with the report roll-ups they feed
 * (src/reporting/rollups.ts), one transaction per batch, so a batch is written or kept whole and a retry
 * never writes an event twice. It runs in the event-write worker (event-write-worker.ts), on a connection of
 * its own, never on the thread that answers tracking requests.
 */
export const EVENT_COLUMNS = [
  'id',
  'message_id',
  'recipient',
  'campaign_id',
  'activity',
  'run_id',
  'channel',
  'type',
  'link',
  'url',
  'human',
  'machine_reason',
  'user_agent',
  'bounce',
  'reason',
  'at',
] as const;

/** An event's values in EVENT_COLUMNS order: what crosses to the worker (plain values clone cheaply). */
export type EventValues = unknown[];

/** Where the store writes: what the worker needs to open its own connection. */
export interface EventStoreLocation {
  kind: DatabaseKind;
  /** The SQLite file, or the PostgreSQL URL. */
  location: string;
}

export interface EventStore {
  /**
   * Inserts the rows and their roll-ups in one transaction. On SQLite a database another connection is
   * writing is refused at once (SQLITE_BUSY, the rows stay with the caller) unless `waitForLock`, which
   * waits for it a while: what closing does, since nothing will retry afterwards.
   */
  write(rows: readonly EventValues[], waitForLock: boolean): Promise<void>;
  close(): Promise<void>;
}

export function openEventStore({ kind, location }: EventStoreLocation): EventStore {
  return kind === 'sqlite' ? sqliteStore(location) : postgresStore(location);
}

/** How long a closing writer waits for SQLite's write lock (a run writing an audience of millions). */
const CLOSING_LOCK_WAIT_MS = 10_000;

/**
 * Rows per INSERT. PostgreSQL: a thousand (16,000 parameters of the 65,535 allowed). SQLite: at most 256
 * (4,096 parameters), the rest of a batch in powers of two, so that a handful of statements, each prepared
 * once, write batches of any size.
 */
const PG_ROWS_PER_STATEMENT = 1000;
const SQLITE_ROWS_PER_STATEMENT = 256;

function statementSizes(kind: DatabaseKind, rows: number): number[] {
  const largest = kind === 'postgres' ? PG_ROWS_PER_STATEMENT : SQLITE_ROWS_PER_STATEMENT;
  const sizes: number[] = Array.from({ length: Math.floor(rows / largest) }, () => largest);
  const rest = rows % largest;
  if (kind === 'postgres') return rest > 0 ? [...sizes, rest] : sizes;
  // The rest's binary digits: 100 rows are statements of 64, 32 and 4.
  for (let size = largest / 2; size >= 1; size /= 2) if (rest & size) sizes.push(size);
  return sizes;
}

/** The rows as the statements of `statementSizes` take them: each size with its flattened values. */
function* statementParts(
  kind: DatabaseKind,
  rows: readonly EventValues[],
): Generator<{ size: number; values: unknown[] }> {
  let start = 0;
  for (const size of statementSizes(kind, rows.length)) {
    yield { size, values: rows.slice(start, start + size).flat() };
    start += size;
  }
}

/**
 * A parameterized multi-row INSERT into events. The text is built here rather than by the query builder:
 * compiling a thousand-row insert costs milliseconds.
 */
function insertSql(kind: DatabaseKind, rows: number): string {
  let parameter = 0;
  const tuple = () =>
    `(${EVENT_COLUMNS.map(() => (kind === 'postgres' ? `$${++parameter}` : '?')).join(', ')})`;
  return `INSERT INTO events (${EVENT_COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, tuple).join(', ')}`;
}

const column = (name: (typeof EVENT_COLUMNS)[number]) => EVENT_COLUMNS.indexOf(name);
const ROLLED = {
  message_id: column('message_id'),
  campaign_id: column('campaign_id'),
  run_id: column('run_id'),
  activity: column('activity'),
  channel: column('channel'),
  type: column('type'),
  human: column('human'),
  at: column('at'),
};

/** What the report roll-ups need of an event row. */
function rolledEvent(row: EventValues): RolledEvent {
  return {
    message_id: row[ROLLED.message_id] as string,
    campaign_id: row[ROLLED.campaign_id] as string,
    run_id: row[ROLLED.run_id] as string,
    activity: row[ROLLED.activity] as string,
    channel: row[ROLLED.channel] as string,
    type: row[ROLLED.type] as string,
    human: row[ROLLED.human] as boolean | number,
    at: row[ROLLED.at] as string,
  };
}

function sqliteStore(file: string): EventStore {
  const connection = openSqliteConnection(file);
  // Only compiles the roll-up statements; they run on `connection`, inside its transaction.
  const compiler = new Kysely<BatonTables>({ dialect: new SqliteDialect({ database: connection }) });
  const statements = new Map<number, BetterSqlite3.Statement>();
  const prepared = (rows: number) => {
    let statement = statements.get(rows);
    if (!statement) {
      statement = connection.prepare(insertSql('sqlite', rows));
      statements.set(rows, statement);
    }
    return statement;
  };
  const insert = connection.transaction((rows: readonly EventValues[]) => {
    for (const { size, values } of statementParts('sqlite', rows)) prepared(size).run(...values);
    recordRollupsSync(connection, compiler, rows.map(rolledEvent));
  });
  return {
    // Synchronous; what it throws rejects the promise.
    write: (rows, waitForLock) =>
      new Promise((resolve) => {
        connection.pragma(`busy_timeout = ${waitForLock ? CLOSING_LOCK_WAIT_MS : 0}`);
        // BEGIN IMMEDIATE: a busy database is refused before any work is done.
        insert.immediate(rows);
        resolve();
      }),
    close: async () => {
      statements.clear();
      await compiler.destroy();
    },
  };
}

function postgresStore(url: string): EventStore {
  // One connection: the worker writes one batch at a time.
  const db = new Kysely<BatonTables>({ dialect: new PostgresDialect({ pool: createPgPool(url, 1) }) });
  return {
    write: (rows) =>
      db.transaction().execute(async (trx) => {
        for (const { size, values } of statementParts('postgres', rows)) {
          await trx.executeQuery(CompiledQuery.raw(insertSql('postgres', size), values));
        }
        await recordRollups(trx, 'postgres', rows.map(rolledEvent));
      }),
    close: () => db.destroy(),
  };
}
