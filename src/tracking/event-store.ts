import { CompiledQuery, Kysely, PostgresDialect, SqliteDialect } from 'kysely';
import { createPgPool, openSqliteConnection } from '../db/database.ts';
import { postgresDialect, type DatabaseKind, type RowType } from '../db/dialect.ts';
import type { BatonTables } from '../db/tables.ts';
import { recordRollups, recordRollupsSync, type RolledEvent } from '../reporting/rollups.ts';
import { EVENT_KINDS, batchString, type EventBatch } from './event-batch.ts';
import { openTimingVerdict } from './machine-detection.ts';
import { TimeOrderedIds } from './time-ordered-ids.ts';
import { MessageDirectory, type TrackedMessage } from './tracked-messages.ts';

/**
 * The write side of tracking, run by the event-write worker (event-write-worker.ts) on a connection of its
 * own, never on the thread that answers tracking requests. A batch of events (event-batch.ts) gets its
 * messages from the ledger (cached), its ids, and the verdicts that need the message (an open fetched on
 * arrival); then it is inserted with the report roll-ups it feeds (src/reporting/rollups.ts) in one
 * transaction, so a batch is written or kept whole and a retry never writes an event twice.
 */
const EVENT_COLUMNS = [
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

/** Where the store writes: what the worker needs to open its own connection. */
export interface EventStoreLocation {
  kind: DatabaseKind;
  /** The SQLite file, or the PostgreSQL URL. */
  location: string;
}

export interface EventStore {
  /**
   * Inserts the events and their roll-ups in one transaction. On SQLite a database another connection is
   * writing is refused at once (SQLITE_BUSY, the events stay with the caller) unless `waitForLock`, which
   * waits for it a while: what closing does, since nothing will retry afterwards.
   */
  write(batch: EventBatch, waitForLock: boolean): Promise<void>;
  close(): Promise<void>;
}

export function openEventStore({ kind, location }: EventStoreLocation): EventStore {
  return kind === 'sqlite' ? sqliteStore(location) : postgresStore(location);
}

/** How long a closing writer waits for SQLite's write lock (a run writing an audience of millions). */
const CLOSING_LOCK_WAIT_MS = 10_000;

/** The batch's messages by id, each looked up once (most from the directory's cache); unknown ones left out. */
async function messagesOf(
  directory: MessageDirectory,
  batch: EventBatch,
): Promise<Map<string, TrackedMessage>> {
  const messages = new Map<string, TrackedMessage>();
  const missing = new Set<string>();
  for (const id of batch.messageIds) {
    if (messages.has(id) || missing.has(id)) continue;
    const cached = directory.peek(id);
    if (cached) messages.set(id, cached);
    else missing.add(id);
  }
  const found = await Promise.all([...missing].map((id) => directory.get(id)));
  for (const message of found) if (message) messages.set(message.id, message);
  return messages;
}

/**
 * A batch's rows, in EVENT_COLUMNS order, one at a time into the same array (its values are bound before
 * the next row is read), and the roll-up view of the events. Events of messages the ledger does not hold
 * (a proof's pixel, a purged run) are left out.
 */
class BatchRows {
  /** The batch's events that have a message, by index. */
  readonly events: number[] = [];
  private readonly ids: string[] = [];
  private isoMs = -1;
  private iso = '';

  constructor(
    private readonly batch: EventBatch,
    private readonly messages: Map<string, TrackedMessage>,
    idSource: TimeOrderedIds,
  ) {
    for (let i = 0; i < batch.count; i++) {
      if (!messages.has(batch.messageIds[i]!)) continue;
      this.events.push(i);
      this.ids.push(idSource.next(batch.at[i]!));
    }
  }

  /** The ISO time of event `i`: tens of events share a millisecond, and with it the string. */
  private time(i: number): string {
    const ms = this.batch.at[i]!;
    if (ms !== this.isoMs) {
      this.iso = new Date(ms).toISOString();
      this.isoMs = ms;
    }
    return this.iso;
  }

  /** Why event `i` is a machine's: what its request said, or for an open, its timing; null for a person's. */
  private machineReason(i: number, message: TrackedMessage): string | null {
    const b = this.batch;
    return (
      batchString(b, b.reasons, i) ??
      (EVENT_KINDS[b.kinds[i]!] === 'open' ? openTimingVerdict(b.at[i]!, message.sentMs) : null)
    );
  }

  /** Writes the `n`th row into `row` from `offset`; booleans as the database stores them. */
  fill(row: unknown[], offset: number, n: number, stored: (human: boolean) => number | boolean): void {
    const b = this.batch;
    const i = this.events[n]!;
    const message = this.messages.get(b.messageIds[i]!)!;
    const kind = EVENT_KINDS[b.kinds[i]!];
    const link = b.links[i]!;
    const reason = this.machineReason(i, message);
    row[offset] = this.ids[n];
    row[offset + 1] = message.id;
    row[offset + 2] = message.recipient;
    row[offset + 3] = message.campaignId;
    row[offset + 4] = message.activity;
    row[offset + 5] = message.runId;
    row[offset + 6] = message.channel;
    row[offset + 7] = kind;
    row[offset + 8] = link < 0 ? null : link;
    row[offset + 9] = kind === 'click' ? (message.links[link] ?? null) : null;
    row[offset + 10] = stored(reason === null);
    row[offset + 11] = reason;
    row[offset + 12] = batchString(b, b.agents, i);
    row[offset + 13] = null;
    row[offset + 14] = null;
    row[offset + 15] = this.time(i);
  }

  rolled(): RolledEvent[] {
    const b = this.batch;
    return this.events.map((i) => {
      const message = this.messages.get(b.messageIds[i]!)!;
      return {
        message_id: message.id,
        campaign_id: message.campaignId,
        run_id: message.runId,
        activity: message.activity,
        channel: message.channel,
        type: EVENT_KINDS[b.kinds[i]!]!,
        human: this.machineReason(i, message) === null,
        at: this.time(i),
      };
    });
  }
}

function sqliteStore(file: string): EventStore {
  const connection = openSqliteConnection(file);
  // Each commit of a batch dirties thousands of index pages (events land on random pages of the
  // recipient index). Checkpointed after every commit, as the default 1,000-page threshold has it, each
  // such page is copied back and the database synced after every batch; at 10,000 pages (40 MB of WAL) a
  // page written by several batches is copied once, and syncs are rarer. Measured: a third of the cost
  // of an event.
  connection.pragma('wal_autocheckpoint = 10000');
  // Reads the messages, and compiles the roll-up statements, on `connection`.
  const db = new Kysely<BatonTables>({ dialect: new SqliteDialect({ database: connection }) });
  const directory = new MessageDirectory(db);
  const ids = new TimeOrderedIds();
  // One row per statement run: on SQLite, a prepared statement costs little per run, and a multi-row
  // insert's values would first have to be flattened and spread (measured slower).
  const insertRow = connection.prepare(
    `INSERT INTO events (${EVENT_COLUMNS.join(', ')}) VALUES (${EVENT_COLUMNS.map(() => '?').join(', ')})`,
  );
  const row: unknown[] = new Array<unknown>(EVENT_COLUMNS.length);
  const stored = (human: boolean) => (human ? 1 : 0);
  const insert = connection.transaction((rows: BatchRows) => {
    for (let n = 0; n < rows.events.length; n++) {
      rows.fill(row, 0, n, stored);
      insertRow.run(row);
    }
    recordRollupsSync(connection, rows.rolled());
  });
  return {
    write: async (batch, waitForLock) => {
      const rows = new BatchRows(batch, await messagesOf(directory, batch), ids);
      if (rows.events.length === 0) return;
      connection.pragma(`busy_timeout = ${waitForLock ? CLOSING_LOCK_WAIT_MS : 0}`);
      // BEGIN IMMEDIATE: a busy database is refused before any work is done.
      insert.immediate(rows);
    },
    close: () => db.destroy(),
  };
}

/** The type of each of EVENT_COLUMNS, for the dialect's row source. */
const COLUMN_TYPES: Record<(typeof EVENT_COLUMNS)[number], RowType> = {
  id: 'text',
  message_id: 'text',
  recipient: 'text',
  campaign_id: 'text',
  activity: 'text',
  run_id: 'text',
  channel: 'text',
  type: 'text',
  link: 'integer',
  url: 'text',
  human: 'boolean',
  machine_reason: 'text',
  user_agent: 'text',
  bounce: 'text',
  reason: 'text',
  at: 'timestamptz',
};

/**
 * On PostgreSQL a batch is one small statement whatever its size, over the dialect's row source (one array
 * per column). A multi-row VALUES list of the same batch has to be parsed and planned afresh for every
 * statement (16 parameters a row); measured, that was most of the server's cost of an event.
 */
const PG_INSERT = `INSERT INTO events (${EVENT_COLUMNS.join(', ')})
  SELECT * FROM ${postgresDialect.rowSource(EVENT_COLUMNS.map((name) => COLUMN_TYPES[name]))}`;

function postgresStore(url: string): EventStore {
  // One connection: the worker writes one batch at a time.
  const db = new Kysely<BatonTables>({ dialect: new PostgresDialect({ pool: createPgPool(url, 1) }) });
  const directory = new MessageDirectory(db);
  const ids = new TimeOrderedIds();
  const row: unknown[] = new Array<unknown>(EVENT_COLUMNS.length);
  return {
    write: async (batch) => {
      const rows = new BatchRows(batch, await messagesOf(directory, batch), ids);
      if (rows.events.length === 0) return;
      // The row source's parameters, filled column by column rather than from an array per row.
      const columns = EVENT_COLUMNS.map(() => new Array<unknown>(rows.events.length));
      for (let n = 0; n < rows.events.length; n++) {
        rows.fill(row, 0, n, (human) => human);
        for (let c = 0; c < row.length; c++) columns[c]![n] = row[c];
      }
      await db.transaction().execute(async (trx) => {
        await trx.executeQuery(CompiledQuery.raw(PG_INSERT, columns));
        await recordRollups(trx, 'postgres', rows.rolled());
      });
    },
    close: () => db.destroy(),
  };
}
