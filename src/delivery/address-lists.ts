import type { Kysely } from 'kysely';
import type { Database } from '../db/database.ts';
import type { BatonTables } from '../db/tables.ts';
import { containsText } from '../db/text-search.ts';
import { NotFoundError } from '../errors.ts';
import type { Channel } from '../schema/types.ts';

/**
 * The two lists every send checks (src/delivery/queue.ts): the quarantine (hard bounces, complaints) and
 * the unsubscriptions. Both are kept per channel and normalised address; people need to read them and,
 * sometimes, take an address off (a mailbox that works again, a reader who asked to subscribe again).
 */
export const ADDRESS_LISTS = ['quarantine', 'unsubscriptions'] as const;
export type AddressList = (typeof ADDRESS_LISTS)[number];

export interface AddressEntry {
  channel: string;
  address: string;
  /** Why it is quarantined (the bounce's or complaint's words); null for an unsubscription. */
  reason: string | null;
  /** The message whose feedback put it there, if any. */
  messageId: string | null;
  at: string;
}

/** Channels' addresses as the lists keep them (the ledger's SQL twin: queue.ts normalisedAddress). */
export function normaliseAddress(channel: Channel, address: string): string {
  if (channel === 'email') return address.trim().toLowerCase();
  if (channel === 'sms') return address.trim().replace(/[ \-.()]/g, '');
  return address.trim();
}

/** Rows per INSERT: far below both databases' parameter limits. */
const QUARANTINE_CHUNK = 500;

/**
 * Puts addresses in the quarantine (a hard bounce while sending, or a provider's bounce or complaint
 * later), inside the caller's transaction. An address already there keeps its first reason; addresses
 * are normalised, and one given twice is written once.
 */
export async function quarantineAddresses(
  trx: Kysely<BatonTables>,
  entries: ReadonlyArray<AddressEntry & { reason: string }>,
): Promise<void> {
  const rows = new Map<string, BatonTables['quarantine']>();
  for (const entry of entries) {
    const address = normaliseAddress(entry.channel as Channel, entry.address);
    const key = `${entry.channel}\u0000${address}`;
    if (!rows.has(key)) {
      rows.set(key, {
        channel: entry.channel,
        address,
        reason: entry.reason,
        message_id: entry.messageId,
        at: entry.at,
      });
    }
  }
  const values = [...rows.values()];
  for (let i = 0; i < values.length; i += QUARANTINE_CHUNK) {
    await trx
      .insertInto('quarantine')
      .values(values.slice(i, i + QUARANTINE_CHUNK))
      .onConflict((oc) => oc.columns(['channel', 'address']).doNothing())
      .execute();
  }
}

export interface AddressQuery {
  channel?: Channel;
  /** Case-insensitive, anywhere in the address (or the quarantine's reason). */
  search?: string;
  limit: number;
  offset: number;
}

interface ListRow {
  channel: string;
  address: string;
  message_id: string | null;
  at: string;
  reason?: string;
}

function entryOf(row: ListRow): AddressEntry {
  return {
    channel: row.channel,
    address: row.address,
    reason: row.reason ?? null,
    messageId: row.message_id,
    at: new Date(row.at).toISOString(),
  };
}

function filtered(database: Database, list: AddressList, query: Omit<AddressQuery, 'limit' | 'offset'>) {
  return database.db.selectFrom(list).where((eb) => {
    const conditions = [];
    if (query.channel) conditions.push(eb('channel', '=', query.channel));
    if (query.search) {
      const searched = [containsText('address', query.search)];
      if (list === 'quarantine') searched.push(containsText('reason', query.search));
      conditions.push(eb.or(searched));
    }
    return eb.and(conditions);
  });
}

/** A page of the list, newest first, with the number of entries matching. */
export async function listAddresses(
  database: Database,
  list: AddressList,
  query: AddressQuery,
): Promise<{ total: number; entries: AddressEntry[] }> {
  const rows = await filtered(database, list, query)
    .selectAll()
    .orderBy('at', 'desc')
    .orderBy('channel')
    .orderBy('address')
    .limit(query.limit)
    .offset(query.offset)
    .execute();
  const counted = await filtered(database, list, query)
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  return {
    total: Number(counted.n),
    entries: rows.map(entryOf),
  };
}

/** The list's entry for an address (normalised here), if it is on it. */
export async function findAddress(
  database: Database,
  list: AddressList,
  channel: Channel,
  address: string,
): Promise<AddressEntry | null> {
  const row = await database.db
    .selectFrom(list)
    .selectAll()
    .where('channel', '=', channel)
    .where('address', '=', normaliseAddress(channel, address))
    .executeTakeFirst();
  return row ? entryOf(row) : null;
}

/** Takes an address off the list: the next send on the channel reaches it again. */
export async function releaseAddress(
  database: Database,
  list: AddressList,
  channel: Channel,
  address: string,
): Promise<void> {
  const normal = normaliseAddress(channel, address);
  const result = await database.db
    .deleteFrom(list)
    .where('channel', '=', channel)
    .where('address', '=', normal)
    .executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) {
    throw new NotFoundError(
      `${normal} is not in the ${list === 'quarantine' ? 'quarantine' : 'unsubscriptions'} of ${channel}.`,
    );
  }
}
