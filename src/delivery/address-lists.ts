import type { Database } from '../db/database.ts';
import { containsText } from '../db/text-search.ts';
import { NotFoundError } from '../errors.ts';
import type { Channel } from '../schema/types.ts';
import { normaliseAddress } from './sender.ts';

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
