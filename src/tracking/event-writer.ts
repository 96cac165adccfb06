import type { Database } from '../db/database.ts';
import { PendingEvents, type TrackedEventKind } from './event-batch.ts';
import { EventWriteThread } from './event-write-thread.ts';
import { CLICK_BURST_MS, burstReason, requestVerdict } from './machine-detection.ts';
import type { TrackedMessage } from './tracked-messages.ts';

export interface RequestInfo {
  userAgent: string | undefined;
  method: string;
}

/**
 * A message's clicks within `burstMs` of its first. They are held here, not with the events due, until
 * every link was clicked (released flagged as a scanner's) or the window ends (released as they are), so a
 * flush looks at each burst once rather than at every held click. Held clicks are kept in columns, like
 * the events due (event-batch.ts): objects living two seconds would all reach the old generation.
 */
interface Burst {
  messageId: string;
  endsAt: number;
  links: Set<number>;
  held: { links: number[]; at: number[]; agents: Array<string | null>; reasons: Array<string | null> };
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

/** Events kept in memory while the database refuses them; beyond this a failing batch is dropped. */
const MAX_BUFFERED = 100_000;
/**
 * Every event due at a flush goes in one transaction: the busier the server, the more events share the
 * index pages a commit writes (each event lands on a random page of the recipient index). A backlog left
 * by a busy database goes in transactions of this size, each holding the write lock for a fraction of a
 * second.
 */
const MAX_TRANSACTION_EVENTS = 5000;
const BUSY_PROBE_EVENTS = 100;
const MAX_USER_AGENT = 512;

/**
 * Tracking events buffered in memory and written in batches — every `flushMs` or every `maxBatch` events,
 * and on close — so that a burst of opens costs a transaction, not one per request. The thread answering
 * requests only notes what each request said (event-batch.ts); a worker thread with a connection of its
 * own (event-write-thread.ts, event-store.ts) looks up the messages and inserts the events with their
 * roll-ups. On SQLite that connection never waits for the lock: while a run holds it (an audience of
 * millions being built), a busy database leaves the events buffered for the next flush.
 */
export class EventWriter {
  private pending = new PendingEvents();
  private readonly bursts = new Map<string, Burst>();
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
    database: Database,
    private readonly options: EventWriterOptions = {},
  ) {
    this.flushMs = options.flushMs ?? 100;
    this.maxBatch = options.maxBatch ?? 1000;
    this.burstMs = options.burstMs ?? CLICK_BURST_MS;
    this.thread = new EventWriteThread({ kind: database.kind, location: database.location });
  }

  /** An open of a message the ledger may not know (a proof's pixel): such an open records nothing. */
  open(messageId: string, request: RequestInfo): void {
    this.add(messageId, 'open', null, Date.now(), request, requestVerdict('open', request));
  }

  click(message: TrackedMessage, link: number, request: RequestInfo): void {
    const atMs = Date.now();
    let reason = requestVerdict('click', request);
    // With one link, "every link clicked" is any click: the burst rule needs two links or more.
    if (message.links.length >= 2) {
      const burst = this.burstOf(message, atMs);
      burst.links.add(link);
      if (!burst.complete && burst.links.size < message.links.length) {
        const { held } = burst;
        held.links.push(link);
        held.at.push(atMs);
        held.agents.push(agentOf(request));
        held.reasons.push(reason);
        this.schedule();
        return;
      }
      // The click that completes its burst, or one after that within the window: flagged, with the
      // clicks held, as a scanner's.
      burst.complete = true;
      const scanner = burstReason(this.burstMs);
      burst.held.reasons = burst.held.reasons.map((held) => held ?? scanner);
      reason ??= scanner;
      this.release(burst);
    }
    this.add(message.id, 'click', link, atMs, request, reason);
  }

  /** An opt-out is a deliberate POST (RFC 8058 clients post for the reader): never a machine event. */
  unsubscribe(message: TrackedMessage, request: RequestInfo): void {
    this.add(message.id, 'unsubscribe', null, Date.now(), request, null);
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

  /** The message's burst open at `atMs`; a new one if its last has ended (its clicks released). */
  private burstOf(message: TrackedMessage, atMs: number): Burst {
    let burst = this.bursts.get(message.id);
    if (!burst || atMs > burst.endsAt) {
      if (burst) this.release(burst);
      burst = {
        messageId: message.id,
        endsAt: atMs + this.burstMs,
        links: new Set(),
        held: { links: [], at: [], agents: [], reasons: [] },
        complete: false,
      };
      this.bursts.set(message.id, burst);
    }
    return burst;
  }

  private release(burst: Burst): void {
    const { held } = burst;
    for (let i = 0; i < held.links.length; i++) {
      this.pending.push(
        burst.messageId,
        'click',
        held.links[i]!,
        held.at[i]!,
        held.agents[i]!,
        held.reasons[i]!,
      );
    }
    burst.held = { links: [], at: [], agents: [], reasons: [] };
  }

  private add(
    messageId: string,
    kind: TrackedEventKind,
    link: number | null,
    atMs: number,
    request: RequestInfo,
    reason: string | null,
  ): void {
    this.pending.push(messageId, kind, link, atMs, agentOf(request), reason);
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
    this.pending = new PendingEvents();
    for (let start = 0; start < due.length;) {
      // While the database is busy, each retry hands over a few events, not the whole backlog again.
      const end = Math.min(due.length, start + (this.busy ? BUSY_PROBE_EVENTS : MAX_TRANSACTION_EVENTS));
      try {
        // Closing, nothing will retry: the worker waits for a busy database rather than refuse at once.
        await this.thread.write(due.batch(start, end), this.closed);
      } catch (error) {
        this.keep(due, start, error);
        break;
      }
      this.busy = false;
      start = end;
    }
    this.schedule();
  }

  /** Puts the events of `due` from `start` back before those that came since, unless too many wait. */
  private keep(due: PendingEvents, start: number, error: unknown): void {
    this.busy = /^SQLITE_(?:BUSY|LOCKED)/.test((error as { code?: string }).code ?? '');
    const kept = due.length - start;
    if (this.pending.length + kept <= MAX_BUFFERED) {
      this.pending = due.rest(start, this.pending);
      if (!this.busy) this.options.onError?.(error);
    } else {
      this.options.onError?.(
        new Error(`${kept} tracking events were dropped: writing them failed and the buffer is full`, {
          cause: error,
        }),
      );
    }
  }
}

/**
 * User agents as one string each: every request's header is a new string, and those an event keeps until
 * its batch is written would otherwise outlive the young generation by the thousand. A campaign's readers
 * use a few hundred; a flood of distinct ones only empties the table now and then.
 */
const agents = new Map<string, string>();
const MAX_AGENTS = 2000;

function agentOf(request: RequestInfo): string | null {
  const header = request.userAgent;
  if (!header) return null;
  let agent = agents.get(header);
  if (agent === undefined) {
    agent = header.slice(0, MAX_USER_AGENT);
    if (agents.size >= MAX_AGENTS) agents.clear();
    agents.set(header, agent);
  }
  return agent;
}
