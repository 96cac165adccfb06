import { randomUUID } from 'node:crypto';
import type { Database } from '../db/database.ts';
import type { EventValues } from './event-store.ts';
import { EventWriteThread } from './event-write-thread.ts';
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

  /** The message if it is cached (marked as just used), without waiting for anything. */
  peek(id: string): TrackedMessage | undefined {
    const cached = this.cache.get(id);
    if (cached) {
      this.cache.delete(id);
      this.cache.set(id, cached);
    }
    return cached;
  }

  get(id: string): Promise<TrackedMessage | undefined> {
    const cached = this.peek(id);
    if (cached) return Promise.resolve(cached);
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
}

/**
 * A message's clicks within `burstMs` of its first. They are held here, not with the events due, until
 * every link was clicked (released flagged as a scanner's) or the window ends (released as they are), so a
 * flush looks at each burst once rather than at every held click.
 */
interface Burst {
  endsAt: number;
  links: Set<number>;
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

/**
 * UUIDv7s (RFC 9562): the time in milliseconds, a 12-bit counter within the millisecond (§6.2, method 1),
 * then 62 random bits drawn once per millisecond. The ids of a batch sit side by side in the primary key's
 * index, so a commit writes its last pages instead of a random page per event; they stay unique across
 * servers without a shared sequence (two servers would need the same millisecond and the same 62 bits).
 * Tens of events share a millisecond on a busy server: they share its prefix and random part too, the
 * costly parts of an id.
 */
class TimeOrderedIds {
  private ms = -1;
  private prefix = '';
  private random = '';
  private counter = 0;

  next(ms: number): string {
    if (ms !== this.ms || this.counter === 0xfff) {
      if (ms !== this.ms) {
        const time = ms.toString(16).padStart(12, '0');
        this.prefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
        this.ms = ms;
      }
      // A v4 UUID's last 62 random bits, its variant bits before them.
      this.random = randomUUID().slice(18);
      this.counter = 0;
    } else this.counter += 1;
    return `${this.prefix}${this.counter.toString(16).padStart(3, '0')}${this.random}`;
  }
}

/** Events kept in memory while the database refuses them; beyond this a failing batch is dropped. */
const MAX_BUFFERED = 100_000;
/**
 * Every event due at a flush goes in one transaction: the busier the server, the more events share the
 * index pages a commit writes (each event lands on a random page of the message and recipient indexes).
 * A backlog left by a busy database goes in transactions of this size, each holding the write lock for a
 * fraction of a second and its copy to the worker a few milliseconds of the event loop.
 */
const MAX_TRANSACTION_EVENTS = 5000;
const BUSY_PROBE_EVENTS = 100;
const MAX_USER_AGENT = 512;

/**
 * Tracking events buffered in memory and written in batches — every `flushMs` or every `maxBatch` events,
 * and on close — so that a burst of opens costs a transaction, not one per request. The batches are
 * inserted, with their roll-ups, by a worker thread on a connection of its own (event-write-thread.ts): the
 * event loop answering tracking requests only hands rows over. On SQLite that connection never waits for
 * the lock: while a run holds it (an audience of millions being built), a busy database leaves the events
 * buffered for the next flush.
 */
export class EventWriter {
  private pending: PendingEvent[] = [];
  private readonly bursts = new Map<string, Burst>();
  private readonly ids = new TimeOrderedIds();
  /** The last event time written and its ISO form: tens of events share a millisecond. */
  private isoMs = -1;
  private iso = '';
  private timer: NodeJS.Timeout | undefined;
  private writing: Promise<void> | undefined;
  private readonly thread: EventWriteThread;
  private closed = false;
  /** The last write found SQLite locked by another connection. */
  private busy = false;
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
    this.thread = new EventWriteThread({ kind: database.kind, location: database.location });
  }

  /**
   * An open of a message the ledger may not know (a proof's pixel): unless the message is cached, it is
   * looked up when the batch is written.
   */
  open(messageId: string, request: RequestInfo): void {
    const message = this.directory.peek(messageId);
    this.add(this.event('open', messageId, message, request, requestVerdict('open', request)));
  }

  click(message: TrackedMessage, link: number, request: RequestInfo): void {
    const event = this.event('click', message.id, message, request, requestVerdict('click', request));
    event.link = link;
    event.url = message.links[link] ?? null;
    // With one link, "every link clicked" is any click: the burst rule needs two links or more.
    if (message.links.length >= 2 && this.holdForBurst(message, event)) this.schedule();
    else this.add(event);
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
    for (const burst of this.bursts.values()) this.release(burst);
    await this.flush();
    if (this.pending.length > 0) {
      this.options.onError?.(
        new Error(`${this.pending.length} tracking events could not be written before closing`),
      );
    }
    await this.thread.close();
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
      id: this.ids.next(now),
      messageId,
      message,
      type,
      link: null,
      url: null,
      userAgent: request.userAgent ? request.userAgent.slice(0, MAX_USER_AGENT) : null,
      atMs: now,
      machineReason,
    };
  }

  /**
   * Holds a click while a scanner's burst may still flag it (true); false when it is due at once: the
   * click that completes its burst, or one after that within the window, flagged like the clicks held.
   */
  private holdForBurst(message: TrackedMessage, event: PendingEvent): boolean {
    let burst = this.bursts.get(message.id);
    if (!burst || event.atMs > burst.endsAt) {
      if (burst) this.release(burst);
      burst = { endsAt: event.atMs + this.burstMs, links: new Set(), held: [], complete: false };
      this.bursts.set(message.id, burst);
    }
    burst.links.add(event.link!);
    if (!burst.complete && burst.links.size < message.links.length) {
      burst.held.push(event);
      return true;
    }
    burst.complete = true;
    const reason = burstReason(this.burstMs);
    for (const held of burst.held) held.machineReason ??= reason;
    event.machineReason ??= reason;
    this.release(burst);
    return false;
  }

  private release(burst: Burst): void {
    for (const event of burst.held) this.pending.push(event);
    burst.held = [];
  }

  private add(event: PendingEvent): void {
    this.pending.push(event);
    if (this.pending.length >= this.maxBatch && !this.writing) void this.flush();
    else this.schedule();
  }

  private schedule(): void {
    if (this.closed || this.timer || (this.pending.length === 0 && this.bursts.size === 0)) return;
    this.timer = setTimeout(() => {
      this.timer = undefined;
      void this.flush();
    }, this.flushMs);
  }

  private async writeDue(): Promise<void> {
    const now = Date.now();
    for (const [id, burst] of this.bursts) {
      if (burst.endsAt <= now) this.release(burst);
      if (burst.endsAt < now) this.bursts.delete(id);
    }
    const due = this.pending;
    this.pending = [];
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
    for (let start = 0; start < known.length;) {
      // While the database is busy, each retry hands over a few rows, not the whole backlog again.
      const end = start + (this.busy ? BUSY_PROBE_EVENTS : MAX_TRANSACTION_EVENTS);
      try {
        // Closing, nothing will retry: the worker waits for a busy database rather than refuse at once.
        await this.thread.write(
          known.slice(start, end).map((e) => this.row(e)),
          this.closed,
        );
      } catch (error) {
        this.keep(known.slice(start), error);
        break;
      }
      this.busy = false;
      start = end;
    }
    this.schedule();
  }

  private keep(events: PendingEvent[], error: unknown): void {
    this.busy = /^SQLITE_(?:BUSY|LOCKED)/.test((error as { code?: string }).code ?? '');
    if (this.pending.length + events.length <= MAX_BUFFERED) {
      this.pending = [...events, ...this.pending];
      if (!this.busy) this.options.onError?.(error);
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

  /** The event's values in the order of event-store.ts's EVENT_COLUMNS. */
  private row(event: PendingEvent): EventValues {
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
      this.isoTime(event.atMs),
    ];
  }

  private isoTime(ms: number): string {
    if (ms !== this.isoMs) {
      this.iso = new Date(ms).toISOString();
      this.isoMs = ms;
    }
    return this.iso;
  }
}
