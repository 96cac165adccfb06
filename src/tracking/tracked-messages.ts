import type { Kysely } from 'kysely';
import type { BatonTables } from '../db/tables.ts';

/**
 * The ledger rows that tracking events belong to: what an event copies from its message, and where a
 * click token's link index leads.
 */
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
    /** The connection it reads the ledger on: the server's, or the event-write worker's own. */
    private readonly db: Kysely<BatonTables>,
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
        const rows = await this.db
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

function tracked(
  row: Pick<
    BatonTables['messages'],
    'id' | 'recipient' | 'campaign_id' | 'activity' | 'run_id' | 'channel' | 'address' | 'links' | 'sent_at'
  >,
): TrackedMessage {
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
