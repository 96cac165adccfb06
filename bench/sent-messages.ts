import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { Database } from '../src/db/database.ts';
import type { BatonTables } from '../src/db/tables.ts';

type MessageRow = Insertable<BatonTables['messages']>;

/**
 * `count` messages in the ledger as a live send leaves them (sent, `sentAt`), 500 rows per statement;
 * `shape(n)` gives what differs per benchmark and per message (channel, address, links…) for the n-th,
 * counted from 1. Returns their ids, in order.
 */
export async function insertSentMessages(
  database: Database,
  count: number,
  sentAt: string,
  shape: (
    n: number,
  ) => Pick<MessageRow, 'run_id' | 'activity' | 'campaign_id' | 'channel' | 'address'> & Partial<MessageRow>,
): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  for (let i = 0; i < count; i += 500) {
    await database.db
      .insertInto('messages')
      .values(
        ids.slice(i, i + 500).map((id, j) => ({
          id,
          recipient: String(i + j + 1),
          item: null,
          position: i + j + 1,
          status: 'sent',
          reason: null,
          bounce: null,
          lease_owner: null,
          lease_until: null,
          provider_message_id: null,
          links: null,
          queued_at: sentAt,
          sent_at: sentAt,
          delivered_at: null,
          updated_at: sentAt,
          ...shape(i + j + 1),
        })),
      )
      .execute();
  }
  return ids;
}
