import { recordRollups, recordRollupsSync, type RolledEvent } from '../reporting/rollups.ts';
import { randomUUID } from 'node:crypto';
import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery } from 'kysely';
import { openSqliteConnection, type Database } from '../db/database.ts';
import type { DatabaseKind } from '../db/dialect.ts';
import {
  CLICK_BURST_MS,
  burstReason,
  openTimingVerdict,
  requestVerdict,
  type TrackedKind,
} from './machine-detection.ts';

/** What an event copies from its message's ledger row, and what a click and the timing rule read. */
export interface TrackedMessage {
  id: string;
  recipient: string;
  campaignId: string;
  activity: string;
  runId: string;
  channel: string;
  address: string | null;
  /** The message's original links by index: a click token's only possible destinations. */
  links: string[];
  /** When the recipient's server or provider accepted the message (epoch ms); null before that. */
  sentMs: number | null;
}

/** Ids per `IN (…)` list: far below both databases' parameter limits. */
const LOOKUP_CHUNK = 500;

/**
 * The ledger rows tracking requests name, read in one query per event-loop turn for every request that
 * missed the cache, and kept (least recently used first out) once sent: a sent message's links and
 * recipient never change, and most clicks and opens come in the hours after a send, for the same messages.
 */
export class MessageDirectory {
  private readonly cache = new Map<string, TrackedMessage>();
  private waiting = new Map<
    string,
    Array<{ resolve: (m: TrackedMessage | undefined) => void; reject: (e: unknown) => void }>
  >();

  constructor(
    private readonly database: Database,
    private readonly capacity = 100_000,
  ) {}

  get(id: string): Promise<TrackedMessage | undefined> {
    const cached = this.cache.get(id);
    if (cached) {
      this.cache.delete(id);
      this.cache.set(id, cached);
      return Promise.resolve(cached);
    }
    return new Promise((resolve, reject) => {
      const callers = this.waiting.get(id);
      if (callers) return void callers.push({ resolve, reject });
      if (this.waiting.size === 0) setImmediate(() => void this.lookUp());
      this.waiting.set(id, [{ resolve, reject }]);
    });
  }

  private async lookUp(): Promise<void> {
    const batch = this.waiting;
    this.waiting = new Map();
    const ids = [...batch.keys()];
    for (let i = 0; i < ids.length; i += LOOKUP_CHUNK) {
      const chunk = ids.slice(i, i + LOOKUP_CHUNK);
      try {
        const rows = await this.database.db
          .selectFrom('messages')
          .select(['id', 'recipient', 'campaign_id', 'activity', 'run_id', 'channel', 'address', 'links'])
          .select('sent_at')
          .where('id', 'in', chunk)
          .execute();
        const found = new Map(rows.map((row) => [row.id, tracked(row)]));
        for (const id of chunk) {
          const message = found.get(id);
          // Not yet sent: its row is still changing, so it is read again next time.
          if (message && message.sentMs !== null) this.remember(message);
          for (const caller of batch.get(id)!) caller.resolve(message);
        }
      } catch (error) {
        for (const id of chunk) for (const caller of batch.get(id)!) caller.reject(error);
      }
    }
  }

  private remember(message: TrackedMessage): void {
    this.cache.set(message.id, message);
    if (this.cache.size > this.capacity) this.cache.delete(this.cache.keys().next().value!);
  }
}

function tracked(row: {
  id: string;
  recipient: string;
  campaign_id: string;
  activity: string;
  run_id: string;
  channel: string;
  address: string | null;
  links: string | null;
  sent_at: string | null;
}): TrackedMessage {
  const links: unknown = row.links === null ? [] : JSON.parse(row.links);
  return {
    id: row.id,
    recipient: row.recipient,
    campaignId: row.campaign_id,
    activity: row.activity,
    runId: row.run_id,
    channel: row.channel,
    address: row.address,
    links: Array.isArray(links) ? links.filter((l): l is string => typeof l === 'string') : [],
    sentMs: row.sent_at === null ? null : epochMs(row.sent_at),
  };
}

/** Timestamps without a zone are UTC here (SQLite's `YYYY-MM-DD HH:MM:SS` form), never local time. */
function epochMs(text: string): number {
  return Date.parse(/(?:Z|[+-]\d\d:?\d\d)$/i.test(text) ? text : `${text.replace(' ', 'T')}Z`);
}

export interface RequestInfo {
  userAgent: string | undefined;
  method: string;
}

type EventType = TrackedKind | 'unsubscribe';

interface PendingEvent {
  id: string;
  messageId: string;
  /** Known at once for clicks and unsubscribes (their answer needs it); looked up at flush for opens. */
  message: TrackedMessage | undefined;
  type: EventType;
  link: number | null;
  url: string | null;
  userAgent: string | null;
  atMs: number;
  machineReason: string | null;
  /** Not written before then: a click that a scanner's burst may still turn into a machine click. */
  releaseAt: number;
}

interface Burst {
  endsAt: number;
  links: Set<number>;
  /** The burst's clicks still held; emptied once every link was clicked (they are released flagged). */
  held: PendingEvent[];
  complete: boolean;
}

export interface EventWriterOptions {
  /** The longest an event waits in memory before its batch is written (default 100 ms). */
  flushMs?: number;
  /** A batch this large is written at once (default 1,000 events). */
  maxBatch?: number;
  /** The click-burst window of the scanner rule (default CLICK_BURST_MS). */
  burstMs?: number;
  /** Failed writes (the events are kept and tried again, up to MAX_BUFFERED). */
  onError?: (error: unknown) => void;
}

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

/**
 * Rows per INSERT: the whole default batch in one statement on PostgreSQL (16,000 parameters of the
 * 65,535 allowed); on SQLite, which writes on the event loop's thread, statements of 100 rows (a
 * millisecond or two each) with other requests answered in between, each size prepared once. The
 * statement text is built here rather than by the query builder: compiling a thousand-row insert would
 * cost milliseconds of the event loop at every flush.
 */
const ROWS_PER_STATEMENT: Record<DatabaseKind, number> = { sqlite: 100, postgres: 1000 };

/** What the report roll-ups need of an event row (in EVENT_COLUMNS order). */
function rolledEvent(row: unknown[]): RolledEvent {
  const value = (column: (typeof EVENT_COLUMNS)[number]) => row[EVENT_COLUMNS.indexOf(column)];
  return {
    message_id: value('message_id') as string,
    campaign_id: value('campaign_id') as string,
    run_id: value('run_id') as string,
    activity: value('activity') as string,
    channel: value('channel') as string,
    type: value('type') as string,
    human: value('human') as boolean | number,
    at: value('at') as string,
  };
}

/** A parameterized multi-row INSERT into events. */
function insertSql(kind: DatabaseKind, rows: number): string {
  let parameter = 0;
  const tuple = () =>
    `(${EVENT_COLUMNS.map(() => (kind === 'postgres' ? `$${++parameter}` : '?')).join(', ')})`;
  return `INSERT INTO events (${EVENT_COLUMNS.join(', ')}) VALUES ${Array.from({ length: rows }, tuple).join(', ')}`;
}

/** Events kept in memory while the database refuses them; beyond this a failing batch is dropped. */
const MAX_BUFFERED = 100_000;
const MAX_USER_AGENT = 512;

/**
 * Tracking events buffered in memory and written in multi-row INSERTs — every `flushMs` or every
 * `maxBatch` events, and on close — so that a burst of opens costs a statement, not one per request. On
 * SQLite the events go through a connection of their own that never waits for a lock: while a run holds
 * the write lock (an audience of millions being built), a busy database leaves the events buffered for the
 * next flush instead of blocking the event loop that answers tracking requests.
 */
export class EventWriter {
  private pending: PendingEvent[] = [];
  private readonly bursts = new Map<string, Burst>();
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private sqlite: BetterSqlite3.Database | undefined;
  /** SQLite's prepared INSERTs by row count (at most ROWS_PER_STATEMENT.sqlite of them). */
  private readonly statements = new Map<number, BetterSqlite3.Statement>();
  private closed = false;
  private readonly flushMs: number;
  private readonly maxBatch: number;
  private readonly burstMs: number;

  constructor(
    private readonly database: Database,
    private readonly directory: MessageDirectory,
    private readonly options: EventWriterOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 100;
    this.maxBatch = options.maxBatch ?? 1000;
    this.burstMs = options.burstMs ?? CLICK_BURST_MS;
  }

  /** An open of a message the ledger may not know (a proof's pixel): checked when the batch is written. */
  open(messageId: string, request: RequestInfo): void {
    this.add(this.event('open', messageId, undefined, request, requestVerdict('open', request)));
  }

  click(message: TrackedMessage, link: number, request: RequestInfo): void {
    const event = this.event('click', message.id, message, request, requestVerdict('click', request));
    event.link = link;
    event.url = message.links[link] ?? null;
    // With one link, "every link clicked" is any click: the burst rule needs two links or more.
    if (message.links.length >= 2) this.joinBurst(message, event);
    this.add(event);
  }

  /** An opt-out is a deliberate POST (RFC 8058 clients post for the reader): never a machine event. */
  unsubscribe(message: TrackedMessage, request: RequestInfo): void {
    this.add(this.event('unsubscribe', message.id, message, request, null));
  }

  /** Writes every event that is due now. */
  flush(): Promise<void> {
    const previous = this.writing ?? Promise.resolve();
    const next = previous.then(() => this.writeDue());
    this.writing = next;
    return next.finally(() => {
      if (this.writing === next) this.writing = undefined;
    });
  }

  /** Writes everything, held clicks included, waiting for the database if it is busy. */
  async close(): Promise<void> {
    this.closed = true;
    clearTimeout(this.timer);
    this.timer = undefined;
    for (const event of this.pending) event.releaseAt = 0;
    await this.flush();
    if (this.pending.length > 0 && this.sqlite) {
      this.sqlite.pragma('busy_timeout = 10000');
      await this.flush();
    }
    if (this.pending.length > 0) {
      this.options.onError?.(
        new Error(`${this.pending.length} tracking events could not be written before closing`),
      );
    }
    this.statements.clear();
    this.sqlite?.close();
    this.sqlite = undefined;
  }

  private event(
    type: EventType,
    messageId: string,
    message: TrackedMessage | undefined,
    request: RequestInfo,
    machineReason: string | null,
  ): PendingEvent {
    const now = Date.now();
    return {
      id: randomUUID(),
      messageId,
      message,
      type,
      link: null,
      url: null,
      userAgent: request.userAgent ? request.userAgent.slice(0, MAX_USER_AGENT) : null,
      atMs: now,
      machineReason,
      releaseAt: now,
    };
  }

  private joinBurst(message: TrackedMessage, event: PendingEvent): void {
    let burst = this.bursts.get(message.id);
    if (!burst || event.atMs > burst.endsAt) {
      burst = { endsAt: event.atMs + this.burstMs, links: new Set(), held: [], complete: false };
      this.bursts.set(message.id, burst);
    }
    burst.links.add(event.link!);
    burst.held.push(event);
    if (!burst.complete && burst.links.size < message.links.length) {
      event.releaseAt = burst.endsAt;
      return;
    }
    burst.complete = true;
    const reason = burstReason(this.burstMs);
    for (const held of burst.held) {
      held.machineReason ??= reason;
      held.releaseAt = event.atMs;
    }
    burst.held = [];
  }

  private add(event: PendingEvent): void {
    this.pending.push(event);
    if (this.pending.length >= this.maxBatch && !this.writing) void this.flush();
    else this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.timer || this.pending.length === 0) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushMs);
  }

  private async writeDue(): Promise<void> {
    const now = Date.now();
    const due: PendingEvent[] = [];
    const held: PendingEvent[] = [];
    for (const event of this.pending) (event.releaseAt <= now ? due : held).push(event);
    this.pending = held;
    for (const [id, burst] of this.bursts) if (burst.endsAt < now) this.bursts.delete(id);
    try {
      const missing = [...new Set(due.filter((e) => !e.message).map((e) => e.messageId))];
      const found = await Promise.all(missing.map((id) => this.directory.get(id)));
      const messages = new Map(missing.map((id, i) => [id, found[i]]));
      for (const event of due) event.message ??= messages.get(event.messageId);
    } catch (error) {
      this.keep(due, error);
      this.schedule();
      return;
    }
    // A message the ledger does not know (a proof, a preview) records nothing.
    const known = due.filter((e) => e.message);
    const size = ROWS_PER_STATEMENT[this.database.kind];
    for (let start = 0; start < known.length; start += size) {
      try {
        await this.insert(known.slice(start, start + size).map((e) => this.row(e)));
      } catch (error) {
        this.keep(known.slice(start), error);
        break;
      }
      // SQLite writes on this thread: the other requests get their turn between two statements.
      if (this.database.kind === 'sqlite') await new Promise((resolve) => setImmediate(resolve));
    }
    this.schedule();
  }

  private keep(events: PendingEvent[], error: unknown): void {
    const busy = /^SQLITE_(?:BUSY|LOCKED)/.test((error as { code?: string }).code ?? '');
    if (this.pending.length + events.length <= MAX_BUFFERED) {
      this.pending = [...events, ...this.pending];
      if (!busy) this.options.onError?.(error);
    } else {
      this.options.onError?.(
        new Error(
          `${events.length} tracking events were dropped: writing them failed and the buffer is full`,
          {
            cause: error,
          },
        ),
      );
    }
  }

  /** The event's values in EVENT_COLUMNS order. */
  private row(event: PendingEvent): unknown[] {
    const message = event.message!;
    const reason =
      event.machineReason ?? (event.type === 'open' ? openTimingVerdict(event.atMs, message.sentMs) : null);
    return [
      event.id,
      message.id,
      message.recipient,
      message.campaignId,
      message.activity,
      message.runId,
      message.channel,
      event.type,
      event.link,
      event.url,
      this.database.dialect.storedBoolean(reason === null),
      reason,
      event.userAgent,
      null,
      null,
      new Date(event.atMs).toISOString(),
    ];
  }

  /**
   * One transaction: its events and the report roll-ups they feed (src/reporting/rollups.ts) are written
   * or kept together, so a retry never writes an event twice and reports always equal a recount.
   */
  private async insert(rows: unknown[][]): Promise<void> {
    const rolled = rows.map(rolledEvent);
    if (this.database.kind === 'sqlite') {
      const connection = this.sqliteConnection();
      const statement = this.prepared(connection, rows.length);
      connection.transaction(() => {
        statement.run(...rows.flat());
        recordRollupsSync(connection, this.database.db, rolled);
      })();
      return;
    }
    await this.database.db.transaction().execute(async (trx) => {
      await trx.executeQuery(CompiledQuery.raw(insertSql('postgres', rows.length), rows.flat()));
      await recordRollups(trx, 'postgres', rolled);
    });
  }

  private prepared(connection: BetterSqlite3.Database, rows: number): BetterSqlite3.Statement {
    let statement = this.statements.get(rows);
    if (!statement) {
      statement = connection.prepare(insertSql('sqlite', rows));
      this.statements.set(rows, statement);
    }
    return statement;
  }

  private sqliteConnection(): BetterSqlite3.Database {
    if (!this.sqlite) {
      this.sqlite = openSqliteConnection(this.database.location);
      this.sqlite.pragma('busy_timeout = 0');
    }
    return this.sqlite;
  }
}
