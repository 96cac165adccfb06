import type { Kysely } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { BatonTables } from '../../db/tables.ts';
import { inWriteTransaction } from '../../db/write-transaction.ts';
import { messageId as nameBasedUuid } from '../../delivery/message-id.ts';
import { quarantineAddresses } from '../../delivery/address-lists.ts';
import { recordRollups, type RolledEvent } from '../../reporting/rollups.ts';
import type { Feedback, FeedbackReading } from './feedback.ts';

/**
 * Provider feedback written where reports and rules read it, in one transaction:
 * - an event (`delivered`, `bounce`, `complaint`) and the report roll-ups it feeds. Its id is derived from
 *   the feedback's key, so a report received twice is recorded once and changes nothing the second time;
 * - the ledger: a receipt makes a sent message `delivered`; a bounce makes it `bounced` (hard or soft,
 *   with the provider's reason), even after a receipt from a relay;
 * - the quarantine: a hard bounce or a complaint keeps the address out of every later send on the channel.
 * Feedback is not machine traffic: its events are recorded with `human` true, so rules over `events`
 * see them without asking for machine events.
 *
 * Several reports are written together, set-based (a statement per step, not per item), so the webhook
 * routes commit the receipts that arrive together as one group (FeedbackGroups).
 */
export interface FeedbackOutcome {
  /** Feedback written now. */
  recorded: number;
  /** Feedback recorded before (a report received again). */
  duplicates: number;
  /** Feedback on messages the ledger does not hold (another system's mail, a purged campaign). */
  unknown: number;
  /**
   * Feedback on messages whose send is still being recorded: nothing is written, and the provider should
   * send it again (a webhook answers 503).
   */
  early: number;
  /** What the report held that changes nothing, by status. */
  ignored: Record<string, number>;
}

/** A provider's time further ahead of ours than this is not believed: the receipt is dated on arrival. */
const MAX_CLOCK_AHEAD_MS = 5 * 60_000;
/** Rows per statement: 16 columns × 500 rows stays far below both databases' parameter limits. */
const CHUNK = 500;

type Trx = Kysely<BatonTables>;

type ReportedMessage = Pick<
  BatonTables['messages'],
  'id' | 'recipient' | 'campaign_id' | 'activity' | 'run_id' | 'channel' | 'address' | 'status'
>;

/** An item to write: the feedback, its message, its event and the reading it counts for. */
interface Pending {
  item: Feedback;
  message: ReportedMessage;
  event: BatonTables['events'];
  outcome: FeedbackOutcome;
}

function chunks<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

function eventTime(item: Feedback, now: number): string {
  const at = item.at?.getTime();
  return new Date(at === undefined || at > now + MAX_CLOCK_AHEAD_MS ? now : at).toISOString();
}

/** Receipts and bounces of the same kind, time and reason: one UPDATE for all their messages. */
async function updateLedger(trx: Trx, written: Pending[]): Promise<void> {
  const groups = new Map<string, Pending[]>();
  for (const pending of written) {
    if (pending.item.kind === 'complaint') continue;
    const { kind, bounce, reason } = pending.item;
    const key = JSON.stringify([kind, pending.event.at, bounce ?? null, reason]);
    groups.set(key, [...(groups.get(key) ?? []), pending]);
  }
  for (const group of groups.values()) {
    const { item, event } = group[0]!;
    for (const part of chunks(group.map((p) => p.message.id))) {
      const update = trx.updateTable('messages').where('id', 'in', part);
      if (item.kind === 'delivered') {
        await update
          .set((eb) => ({
            status: 'delivered',
            delivered_at: event.at,
            // A message counted uncertain (its sender died after handing it over) did go out.
            sent_at: eb.fn.coalesce('sent_at', eb.val(event.at)),
            updated_at: event.at,
          }))
          .where('status', 'in', ['sent', 'uncertain'])
          .execute();
      } else {
        await update
          .set((eb) => ({
            status: 'bounced',
            bounce: item.bounce ?? 'soft',
            reason: item.reason,
            delivered_at: null,
            sent_at: eb.fn.coalesce('sent_at', eb.val(event.at)),
            updated_at: event.at,
          }))
          .where('status', 'in', ['sent', 'uncertain', 'delivered'])
          .execute();
      }
    }
  }
}

/** Hard bounces and complaints keep their address out of every later send on the channel. */
function quarantine(trx: Trx, written: Pending[]): Promise<void> {
  return quarantineAddresses(
    trx,
    written.flatMap(({ item, message, event }) =>
      message.address === null || !(item.kind === 'complaint' || item.bounce === 'hard')
        ? []
        : [
            {
              channel: message.channel,
              address: message.address,
              reason:
                item.kind === 'complaint'
                  ? `complaint (${item.reason ?? 'abuse'})`
                  : (item.reason ?? 'bounce'),
              messageId: message.id,
              at: event.at,
            },
          ],
    ),
  );
}

/** Writes the feedback of several readings in one transaction; each gets its own outcome. */
export async function recordFeedbackBatch(
  database: Database,
  readings: readonly FeedbackReading[],
  now = Date.now(),
): Promise<FeedbackOutcome[]> {
  const outcomes = readings.map((reading): FeedbackOutcome => ({
    recorded: 0,
    duplicates: 0,
    unknown: 0,
    early: 0,
    ignored: reading.ignored,
  }));
  const items = readings.flatMap((reading, i) =>
    reading.items.map((item) => ({ item, outcome: outcomes[i]! })),
  );
  if (items.length === 0) return outcomes;
  // Reads the messages before writing: a write transaction from the start (SQLite's BEGIN IMMEDIATE).
  await inWriteTransaction(database, async (trx) => {
    const messages = new Map<string, ReportedMessage>();
    for (const part of chunks([...new Set(items.map(({ item }) => item.messageId))])) {
      const rows = await trx
        .selectFrom('messages')
        .select(['id', 'recipient', 'campaign_id', 'activity', 'run_id', 'channel', 'address', 'status'])
        .where('id', 'in', part)
        .execute();
      for (const row of rows) messages.set(row.id, row);
    }
    const pending = new Map<string, Pending>();
    for (const { item, outcome } of items) {
      const message = messages.get(item.messageId);
      if (!message) {
        outcome.unknown++;
        continue;
      }
      if (message.status === 'queued' || message.status === 'sending') {
        outcome.early++;
        continue;
      }
      const id = nameBasedUuid(`feedback:${item.key}`);
      // The same report twice in one group: the second is a duplicate, as it would be later.
      if (pending.has(id)) {
        outcome.duplicates++;
        continue;
      }
      const event = {
        id,
        message_id: message.id,
        recipient: message.recipient,
        campaign_id: message.campaign_id,
        activity: message.activity,
        run_id: message.run_id,
        channel: message.channel,
        type: item.kind,
        link: null,
        url: null,
        human: database.dialect.storedBoolean(true),
        machine_reason: null,
        user_agent: null,
        bounce: item.bounce ?? null,
        reason: item.reason,
        at: eventTime(item, now),
      };
      pending.set(id, { item, message, event, outcome });
    }
    const inserted = new Set<string>();
    for (const part of chunks([...pending.values()])) {
      const rows = await trx
        .insertInto('events')
        .values(part.map((p) => p.event))
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .execute();
      for (const row of rows) inserted.add(row.id);
    }
    const written: Pending[] = [];
    for (const [id, p] of pending) {
      if (inserted.has(id)) {
        p.outcome.recorded++;
        written.push(p);
      } else p.outcome.duplicates++;
    }
    await updateLedger(trx, written);
    await quarantine(trx, written);
    const rolled: RolledEvent[] = written.map((p) => p.event);
    await recordRollups(trx, database.kind, rolled);
  });
  return outcomes;
}

export async function recordFeedback(
  database: Database,
  reading: FeedbackReading,
  now = Date.now(),
): Promise<FeedbackOutcome> {
  const [outcome] = await recordFeedbackBatch(database, [reading], now);
  return outcome!;
}

/** Readings waiting for one group, at most this many before it is written at once. */
const MAX_GROUP = 500;

/**
 * Group commit for the webhooks: readings that arrive while a group is being written wait for the next
 * one, and each request is answered once its group committed — so a burst of receipts costs a few
 * transactions, not one each, and nothing is acknowledged before it is stored.
 */
export class FeedbackGroups {
  private waiting: Array<{
    reading: FeedbackReading;
    resolve: (outcome: FeedbackOutcome) => void;
    reject: (error: unknown) => void;
  }> = [];
  private writing: Promise<void> | undefined;

  constructor(private readonly database: Database) {}

  record(reading: FeedbackReading): Promise<FeedbackOutcome> {
    return new Promise((resolve, reject) => {
      this.waiting.push({ reading, resolve, reject });
      if (!this.writing) this.writing = this.writeAll();
    });
  }

  private async writeAll(): Promise<void> {
    // Let the requests that arrived in the same turn of the event loop join the first group.
    await new Promise((resolve) => setImmediate(resolve));
    while (this.waiting.length > 0) {
      const group = this.waiting.splice(0, MAX_GROUP);
      try {
        const outcomes = await recordFeedbackBatch(
          this.database,
          group.map((g) => g.reading),
        );
        group.forEach((g, i) => g.resolve(outcomes[i]!));
      } catch (error) {
        for (const g of group) g.reject(error);
      }
    }
    this.writing = undefined;
  }
}
