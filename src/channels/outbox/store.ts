import { randomUUID } from 'node:crypto';
import { type Expression, type ExpressionBuilder, type SqlBool } from 'kysely';
import type { Database } from '../../db/database.ts';
import { containsText } from '../../db/text-search.ts';
import type { BatonTables } from '../../db/tables.ts';
import { NotFoundError } from '../../errors.ts';
import type { SendingChannel } from '../types.ts';

/**
 * The outbox: messages the dev outbox's SMTP server received and messages the simulators were given, one
 * row per message and recipient, so a demo or a test can read back exactly what would have gone out.
 */
export interface OutboxEntry {
  id: string;
  channel: SendingChannel;
  /** The ledger's message id, or an email's Message-ID without its angle brackets. */
  messageId: string | null;
  recipient: string;
  sender: string | null;
  subject: string | null;
  providerId: string | null;
  receivedAt: string;
}

export interface OutboxMessage extends OutboxEntry {
  text: string | null;
  html: string | null;
  /** An email's headers; an SMS's encoding and segments; a push's data and deep link. */
  headers: Record<string, unknown>;
  /** Whether the email's source is kept (GET /api/outbox/:id/raw). */
  hasRaw: boolean;
}

export interface NewOutboxMessage {
  /** Given by the simulators (derived from the idempotency key); a random UUID otherwise. */
  id?: string;
  channel: SendingChannel;
  messageId: string | null;
  recipient: string;
  sender?: string | null;
  subject?: string | null;
  text?: string | null;
  html?: string | null;
  headers: Record<string, unknown>;
  raw?: string | null;
  providerId?: string | null;
}

export interface OutboxQuery {
  channel?: SendingChannel;
  /** Case-insensitive, anywhere in the recipient, sender, subject, message id or text. */
  search?: string;
  limit: number;
  offset: number;
}

type Row = BatonTables['outbox_messages'];

function entry(row: Omit<Row, 'text' | 'html' | 'headers' | 'raw'>): OutboxEntry {
  return {
    id: row.id,
    channel: row.channel as SendingChannel,
    messageId: row.message_id,
    recipient: row.recipient,
    sender: row.sender,
    subject: row.subject,
    providerId: row.provider_id,
    receivedAt: new Date(row.received_at).toISOString(),
  };
}

/** Stores one message; answers false when a row with its id is already there (a simulator's resend). */
export async function recordOutboxMessage(database: Database, message: NewOutboxMessage): Promise<boolean> {
  const result = await database.db
    .insertInto('outbox_messages')
    .values({
      id: message.id ?? randomUUID(),
      channel: message.channel,
      message_id: message.messageId,
      recipient: message.recipient,
      sender: message.sender ?? null,
      subject: message.subject ?? null,
      text: message.text ?? null,
      html: message.html ?? null,
      headers: JSON.stringify(message.headers),
      raw: message.raw ?? null,
      provider_id: message.providerId ?? null,
      received_at: new Date().toISOString(),
    })
    .onConflict((conflict) => conflict.column('id').doNothing())
    .executeTakeFirst();
  return Number(result.numInsertedOrUpdatedRows ?? 0) > 0;
}

function filters(query: Omit<OutboxQuery, 'limit' | 'offset'>) {
  return (eb: ExpressionBuilder<BatonTables, 'outbox_messages'>): Expression<SqlBool> => {
    const conditions: Expression<SqlBool>[] = [];
    if (query.channel) conditions.push(eb('channel', '=', query.channel));
    if (query.search) {
      const search = query.search;
      conditions.push(
        eb.or(
          (['recipient', 'sender', 'subject', 'message_id', 'text'] as const).map((column) =>
            containsText(column, search),
          ),
        ),
      );
    }
    return eb.and(conditions);
  };
}

/** A page of messages, newest first, with the number matching the filters. */
export async function listOutbox(
  database: Database,
  query: OutboxQuery,
): Promise<{ total: number; messages: OutboxEntry[] }> {
  const where = filters(query);
  const rows = await database.db
    .selectFrom('outbox_messages')
    .select(['id', 'channel', 'message_id', 'recipient', 'sender', 'subject', 'provider_id', 'received_at'])
    .where(where)
    .orderBy('received_at', 'desc')
    .orderBy('id')
    .limit(query.limit)
    .offset(query.offset)
    .execute();
  const counted = await database.db
    .selectFrom('outbox_messages')
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .where(where)
    .executeTakeFirstOrThrow();
  return { total: Number(counted.n), messages: rows.map(entry) };
}

export async function getOutboxMessage(database: Database, id: string): Promise<OutboxMessage> {
  const row = await database.db
    .selectFrom('outbox_messages')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`No outbox message "${id}".`);
  return {
    ...entry(row),
    text: row.text,
    html: row.html,
    headers: JSON.parse(row.headers) as Record<string, unknown>,
    hasRaw: row.raw !== null,
  };
}

/** An email's source as received. */
export async function getOutboxRaw(database: Database, id: string): Promise<string> {
  const row = await database.db
    .selectFrom('outbox_messages')
    .select('raw')
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`No outbox message "${id}".`);
  if (row.raw === null) throw new NotFoundError(`The outbox message "${id}" has no email source.`);
  return row.raw;
}

/** Empties the outbox (or one channel of it); answers how many messages were removed. */
export async function clearOutbox(database: Database, channel?: SendingChannel): Promise<number> {
  let query = database.db.deleteFrom('outbox_messages');
  if (channel) query = query.where('channel', '=', channel);
  const result = await query.executeTakeFirst();
  return Number(result.numDeletedRows);
}
