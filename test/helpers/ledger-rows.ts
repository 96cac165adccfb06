import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import type { BatonTables } from '../../src/db/tables.ts';
import type { TestDatabase } from './databases.ts';

type MessageRow = Insertable<BatonTables['messages']>;

/**
 * A ledger row as a send leaves it — an email sent just now through `smtp`, of run `run-1`'s activity
 * `mail` of campaign `spring`, to recipient `7` at an address made of its id — with `fields` instead.
 */
export function ledgerRow(fields: Partial<MessageRow> = {}): MessageRow & { id: string } {
  const id = fields.id ?? randomUUID();
  const at = new Date().toISOString();
  return {
    run_id: 'run-1',
    activity: 'mail',
    campaign_id: 'spring',
    channel: 'email',
    recipient: '7',
    item: null,
    address: `${id.slice(0, 8)}@example.test`,
    position: 1,
    status: 'sent',
    reason: null,
    bounce: null,
    lease_owner: null,
    lease_until: null,
    provider: 'smtp',
    provider_message_id: null,
    links: null,
    queued_at: at,
    sent_at: at,
    delivered_at: null,
    updated_at: at,
    ...fields,
    id,
  };
}

/** Inserts such a row; answers its id. */
export async function insertLedgerRow(t: TestDatabase, fields: Partial<MessageRow> = {}): Promise<string> {
  const row = ledgerRow(fields);
  await t.database.db.insertInto('messages').values(row).execute();
  return row.id;
}
