import type { Transaction } from 'kysely';
import type { Database } from '../../db/database.ts';
import type { BatonTables } from '../../db/tables.ts';
import type { Channel } from '../../schema/types.ts';
import { messageId as nameBasedUuid } from '../../delivery/message-id.ts';
import { normaliseAddress } from '../../delivery/sender.ts';
import { recordRollups, type RolledEvent } from '../../reporting/rollups.ts';
import type { Feedback, FeedbackReading } from './feedback.ts';

/**
 * Provider feedback written where reports and rules read it, in one transaction per report:
 * - an event (`delivered`, `bounce`, `complaint`) and the report roll-ups it feeds. Its id is derived from
 *   the feedback's key, so a report received twice is recorded once and changes nothing the second time;
 * - the ledger: a receipt makes a sent message `delivered`; a bounce makes it `bounced` (hard or soft,
 *   with the provider's reason), even after a receipt from a relay;
 * - the quarantine: a hard bounce or a complaint keeps the address out of every later send on the channel.
 * Feedback is not machine traffic: its events are recorded with `human` true, so rules over `events`
 * see them without asking for machine events.
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

type Trx = Transaction<BatonTables>;

interface ReportedMessage {
  id: string;
  recipient: string;
  campaign_id: string;
  activity: string;
  run_id: string;
  channel: string;
  address: string | null;
  status: string;
}

function eventTime(item: Feedback, now: number): string {
  const at = item.at?.getTime();
  return new Date(at === undefined || at > now + MAX_CLOCK_AHEAD_MS ? now : at).toISOString();
}

async function updateLedger(trx: Trx, message: ReportedMessage, item: Feedback, at: string): Promise<void> {
  if (item.kind === 'delivered') {
    await trx
      .updateTable('messages')
      .set((eb) => ({
        status: 'delivered',
        delivered_at: at,
        // A message counted uncertain (its sender died after handing it over) did go out.
        sent_at: eb.fn.coalesce('sent_at', eb.val(at)),
        updated_at: at,
      }))
      .where('id', '=', message.id)
      .where('status', 'in', ['sent', 'uncertain'])
      .execute();
  } else if (item.kind === 'bounce') {
    await trx
      .updateTable('messages')
      .set((eb) => ({
        status: 'bounced',
        bounce: item.bounce ?? 'soft',
        reason: item.reason,
        delivered_at: null,
        sent_at: eb.fn.coalesce('sent_at', eb.val(at)),
        updated_at: at,
      }))
      .where('id', '=', message.id)
      .where('status', 'in', ['sent', 'uncertain', 'delivered'])
      .execute();
  }
}

async function quarantine(trx: Trx, message: ReportedMessage, item: Feedback, at: string): Promise<void> {
  const reason = item.kind === 'complaint' ? `complaint (${item.reason ?? 'abuse'})` : item.reason;
  if (message.address === null || !(item.kind === 'complaint' || item.bounce === 'hard')) return;
  await trx
    .insertInto('quarantine')
    .values({
      channel: message.channel,
      address: normaliseAddress(message.channel as Channel, message.address),
      reason: reason ?? item.kind,
      message_id: message.id,
      at,
    })
    .onConflict((oc) => oc.columns(['channel', 'address']).doNothing())
    .execute();
}

export async function recordFeedback(
  database: Database,
  reading: FeedbackReading,
  now = Date.now(),
): Promise<FeedbackOutcome> {
  const outcome: FeedbackOutcome = {
    recorded: 0,
    duplicates: 0,
    unknown: 0,
    early: 0,
    ignored: reading.ignored,
  };
  if (reading.items.length === 0) return outcome;
  await database.db.transaction().execute(async (trx) => {
    const rolled: RolledEvent[] = [];
    for (const item of reading.items) {
      const message = await trx
        .selectFrom('messages')
        .select(['id', 'recipient', 'campaign_id', 'activity', 'run_id', 'channel', 'address', 'status'])
        .where('id', '=', item.messageId)
        .executeTakeFirst();
      if (!message) {
        outcome.unknown++;
        continue;
      }
      if (message.status === 'queued' || message.status === 'sending') {
        outcome.early++;
        continue;
      }
      const at = eventTime(item, now);
      const event = {
        id: nameBasedUuid(`feedback:${item.key}`),
        message_id: message.id,
        recipient: message.recipient,
        campaign_id: message.campaign_id,
        activity: message.activity,
        run_id: message.run_id,
        channel: message.channel,
        type: item.kind,
        human: database.dialect.storedBoolean(true),
        bounce: item.bounce ?? null,
        reason: item.reason,
        at,
      };
      const inserted = await trx
        .insertInto('events')
        .values(event)
        .onConflict((oc) => oc.column('id').doNothing())
        .returning('id')
        .execute();
      if (inserted.length === 0) {
        outcome.duplicates++;
        continue;
      }
      await updateLedger(trx, message, item, at);
      await quarantine(trx, message, item, at);
      rolled.push(event);
      outcome.recorded++;
    }
    await recordRollups(trx, database.kind, rolled);
  });
  return outcome;
}
