import type { ColumnDef, ColumnType, LinkDef, TableDef } from './types.ts';

/**
 * The system links of every targeting dimension (DESIGN.md "Workspace schema"): `messages`, the ledger
 * rows of the recipient, and `events`, its tracking and feedback events. Rules see them as one-to-many
 * links to two tables with the columns DESIGN.md names. They are no tables of the workspace: a link
 * marked `system` resolves to one of these, never to a customer table of the same name.
 */

const column = (name: string, type: ColumnType, description: string, values?: string[]): ColumnDef => ({
  name,
  type,
  description,
  ...(values && { values }),
});

export const MESSAGE_STATUSES = [
  'queued',
  'excluded',
  'sending',
  'sent',
  'delivered',
  'failed',
  'bounced',
  'uncertain',
];
export const EVENT_TYPES = ['open', 'click', 'unsubscribe', 'bounce', 'complaint', 'delivered'];

export const MESSAGES_TABLE: TableDef = {
  name: 'messages',
  label: 'Messages',
  description: 'The messages Baton queued, sent or excluded for the recipient (the ledger)',
  primaryKey: ['id'],
  links: [],
  system: 'messages',
  columns: [
    column('id', 'string', 'the message id'),
    column('campaign', 'string', 'the campaign id'),
    column('version', 'integer', 'the published version a live run executed'),
    column('run', 'string', 'the run id'),
    column('activity', 'string', 'the channel activity of the campaign'),
    column('channel', 'string', 'email, sms, push or direct-mail'),
    column('address', 'string', 'the address the message went to'),
    column('status', 'string', "the message's status (delivered once a provider's receipt says so)", [
      ...MESSAGE_STATUSES,
    ]),
    column('reason', 'string', 'why it was excluded, failed or bounced'),
    column('attempts', 'integer', 'send attempts'),
    column('sent_at', 'datetime', 'when the provider accepted it'),
    column('delivered_at', 'datetime', "when a provider's receipt said it was delivered"),
  ],
};

export const EVENTS_TABLE: TableDef = {
  name: 'events',
  label: 'Events',
  description: "The recipient's tracking and feedback events (opens, clicks, unsubscribes, receipts)",
  primaryKey: ['id'],
  links: [],
  system: 'events',
  columns: [
    column('id', 'string', 'the event id'),
    column('message', 'string', 'the message id'),
    column('campaign', 'string', 'the campaign id'),
    column('activity', 'string', 'the channel activity of the campaign'),
    column('run', 'string', 'the run id'),
    column('channel', 'string', 'email, sms, push or direct-mail'),
    column('type', 'string', 'what happened', [...EVENT_TYPES]),
    column('link', 'integer', "a click's link index in the message"),
    column('url', 'string', 'the URL a click led to'),
    column('human', 'boolean', 'false for prefetchers, link scanners and other machine traffic'),
    column('at', 'datetime', 'when it happened'),
  ],
};

/** The views' column holding the recipient's key as text (as the ledger names it); not one rules name. */
export const RECIPIENT = 'recipient';

/** The system links of a table: none unless it is a targeting dimension (whose key is a single column). */
export function systemLinks(table: TableDef): LinkDef[] {
  if (!table.targeting) return [];
  const on = [{ from: table.primaryKey[0]!, to: RECIPIENT }];
  return [MESSAGES_TABLE, EVENTS_TABLE].map((target) => ({
    name: target.name,
    table: target.name,
    cardinality: 'one-to-many' as const,
    on,
    system: true as const,
  }));
}

export function systemTable(link: LinkDef): TableDef {
  return link.table === MESSAGES_TABLE.name ? MESSAGES_TABLE : EVENTS_TABLE;
}
