import type { Database } from '../db/database.ts';
import { NotFoundError } from '../errors.ts';
import type { Channel } from '../schema/types.ts';
import { findAddress, type AddressEntry, type AddressList } from './address-lists.ts';

/**
 * One message as the ledger knows it — where it stands, when it was queued, sent and delivered, why it was
 * excluded or bounced — with every event recorded for it and whether its address is now quarantined or
 * unsubscribed: what a person reads to answer "what happened to the mail we sent Ann?".
 */
export interface MessageTrace {
  id: string;
  campaign: string;
  run: string;
  activity: string;
  channel: string;
  recipient: string;
  item: string | null;
  address: string | null;
  status: string;
  reason: string | null;
  bounce: string | null;
  attempts: number;
  provider: string | null;
  providerMessageId: string | null;
  links: string[];
  queuedAt: string;
  sentAt: string | null;
  deliveredAt: string | null;
  updatedAt: string;
  /** Oldest first; at most MAX_EVENTS. */
  events: TracedEvent[];
  quarantined: AddressEntry | null;
  unsubscribed: AddressEntry | null;
}

export interface TracedEvent {
  type: string;
  at: string;
  human: boolean;
  machineReason: string | null;
  link: number | null;
  url: string | null;
  bounce: string | null;
  reason: string | null;
  userAgent: string | null;
}

const MAX_EVENTS = 1000;
const iso = (value: string | null) => (value === null ? null : new Date(value).toISOString());

export async function traceMessage(database: Database, id: string): Promise<MessageTrace> {
  const message = await database.db
    .selectFrom('messages')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!message) throw new NotFoundError(`No message ${id} in the ledger.`);
  const events = await database.db
    .selectFrom('events')
    .selectAll()
    // Through the recipient's index (events_of_recipient): events have no index by message.
    .where('recipient', '=', message.recipient)
    .where('message_id', '=', id)
    .orderBy('at')
    .orderBy('id')
    .limit(MAX_EVENTS)
    .execute();
  const onList = (list: AddressList) =>
    message.address === null
      ? Promise.resolve(null)
      : findAddress(database, list, message.channel as Channel, message.address);
  const links: unknown = message.links === null ? [] : JSON.parse(message.links);
  return {
    id: message.id,
    campaign: message.campaign_id,
    run: message.run_id,
    activity: message.activity,
    channel: message.channel,
    recipient: message.recipient,
    item: message.item,
    address: message.address,
    status: message.status,
    reason: message.reason,
    bounce: message.bounce,
    attempts: Number(message.attempts),
    provider: message.provider,
    providerMessageId: message.provider_message_id,
    links: Array.isArray(links) ? links.filter((l): l is string => typeof l === 'string') : [],
    queuedAt: iso(message.queued_at)!,
    sentAt: iso(message.sent_at),
    deliveredAt: iso(message.delivered_at),
    updatedAt: iso(message.updated_at)!,
    events: events.map((e) => ({
      type: e.type,
      at: iso(e.at)!,
      human: Boolean(e.human),
      machineReason: e.machine_reason,
      link: e.link,
      url: e.url,
      bounce: e.bounce,
      reason: e.reason,
      userAgent: e.user_agent,
    })),
    quarantined: await onList('quarantine'),
    unsubscribed: await onList('unsubscriptions'),
  };
}
