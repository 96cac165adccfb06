import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../db/database.ts';
import type { WorkingTable } from '../engine/working-tables.ts';
import { workingTableRef } from '../engine/working-tables.ts';
import type { SqlScope } from '../rules/sql-scope.ts';
import type { Channel, ChannelDef, LinkDef, TableDef } from '../schema/types.ts';
import { messageIdSql } from './message-id.ts';

/**
 * Turning a channel activity's population into ledger rows, in one set-based statement: each recipient
 * becomes a message, `queued`, or `excluded` with the first reason that applies, in this order.
 */
export const EXCLUSION_REASONS = [
  'no-address',
  'malformed-address',
  'not-opted-in',
  'unsubscribed',
  'quarantined',
  'frequency-cap',
  'duplicate-address',
  'window-overflow',
  // Not a reason of the classification: messages of a run stopped before they were sent.
  'stopped',
] as const;
export type ExclusionReason = (typeof EXCLUSION_REASONS)[number];

export interface QueueRequest {
  run: string;
  campaign: string;
  activity: string;
  channel: Channel;
  recipients: WorkingTable;
  /** The dimension's address (and opt-in) columns for the channel. */
  target: ChannelDef;
  /** Transactional messages skip the opt-in and the frequency cap. */
  category: 'marketing' | 'transactional';
  /** At most `messages` sent to one recipient on this channel in `days` days (marketing only). */
  frequencyCap?: { messages: number; days: number };
  /** How many messages the sending window holds (rate × window): the rest are `window-overflow`. */
  capacity: number;
  now: number;
  /** One message per row of a link (perRowOf): its rows as a rule scope (alias t0) and their condition. */
  perRow?: {
    table: TableDef;
    link: LinkDef;
    scope: SqlScope;
    where: RawBuilder<unknown>;
    /** The rows' address column, when messages go to it instead of the recipient's address. */
    address?: RawBuilder<unknown>;
  };
}

export interface QueueCounts {
  queued: number;
  excluded: Partial<Record<ExclusionReason, number>>;
}

/** An address as duplicates and quarantine compare it: e-mail in lower case, phone numbers as digits. */
export function normalisedAddress(channel: Channel, address: RawBuilder<unknown>): RawBuilder<unknown> {
  if (channel === 'email') return sql`lower(trim(${address}))`;
  if (channel === 'sms') {
    let digits: RawBuilder<unknown> = sql`trim(${address})`;
    for (const c of [' ', '-', '.', '(', ')']) digits = sql`replace(${digits}, ${c}, '')`;
    return digits;
  }
  return sql`trim(${address})`;
}

/** The recipient as the ledger names it: its key as text, or its keys joined by | (several columns). */
export function recipientSql(keys: string[], alias: string): RawBuilder<unknown> {
  return sql.join(
    keys.map((k) => sql`CAST(${sql.ref(`${alias}.${k}`)} AS TEXT)`),
    sql` || '|' || `,
  );
}

/**
 * The messages with their recipient, row of the link (perRowOf), address and exclusion reason (NULL when
 * the message goes out), in the order they are sent: by recipient key, then row key.
 */
function classified(database: Database, request: QueueRequest): RawBuilder<unknown> {
  const { dimension } = request.recipients;
  const keys = dimension.primaryKey;
  const on = sql.join(
    keys.map((k) => sql`${sql.ref(`d.${k}`)} = ${sql.ref(`w.${k}`)}`),
    sql` AND `,
  );
  const recipient = recipientSql(keys, 'w');
  const address = sql.ref(`d.${request.target.address}`);
  const { perRow } = request;
  const opted = request.target.optIn ? sql.ref(`d.${request.target.optIn}`) : sql`NULL`;
  const norm = normalisedAddress(request.channel, sql.ref('b.address'));
  const malformed =
    request.channel === 'email'
      ? sql`NOT (trim(b.address) LIKE '%_@_%._%' AND b.address NOT LIKE '%@%@%' AND trim(b.address) NOT LIKE '% %')`
      : request.channel === 'sms'
        ? // E.164 at most 15 digits, with or without +: the sender normalises what passes here.
          sql`(length(${norm}) NOT BETWEEN 6 AND 16 OR ltrim(${norm}, '+0123456789') <> '')`
        : sql`1 = 0`;
  const marketing = request.category === 'marketing';
  const optIn = request.target.optIn;
  const notOptedIn =
    marketing && optIn
      ? sql`COALESCE(${sql.ref(`b.opted`)}, ${database.dialect.storedBoolean(false)}) = ${database.dialect.storedBoolean(false)}`
      : sql`1 = 0`;
  const cap = marketing ? request.frequencyCap : undefined;
  // Messages that went out (`sent_at`), whatever feedback came back since: delivered or bounced later.
  const capped = cap
    ? sql`(SELECT count(*) FROM messages m WHERE m.channel = ${request.channel} AND m.recipient = b.recipient
        AND m.sent_at >= ${new Date(request.now - cap.days * 86_400_000).toISOString()}) >= ${cap.messages}`
    : sql`1 = 0`;
  const reason = sql`CASE
    WHEN b.address IS NULL OR trim(b.address) = '' THEN 'no-address'
    WHEN ${malformed} THEN 'malformed-address'
    WHEN ${notOptedIn} THEN 'not-opted-in'
    WHEN EXISTS (SELECT 1 FROM unsubscriptions u WHERE u.channel = ${request.channel} AND u.address = ${norm}) THEN 'unsubscribed'
    WHEN EXISTS (SELECT 1 FROM quarantine q WHERE q.channel = ${request.channel} AND q.address = ${norm}) THEN 'quarantined'
    WHEN ${capped} THEN 'frequency-cap'
  END`;
  const base = perRow
    ? sql`SELECT ${recipient} AS recipient, ${recipientSql(perRow.table.primaryKey, perRow.scope.alias)} AS item,
        ${perRow.address ?? address} AS address, ${opted} AS opted,
        row_number() OVER (ORDER BY ${sql.join([
          ...keys.map((k) => sql.ref(`w.${k}`)),
          ...perRow.table.primaryKey.map((k) => sql.ref(`${perRow.scope.alias}.${k}`)),
        ])}) AS position
      FROM ${perRow.scope.from()}
      JOIN ${database.dialect.dataTableRef(dimension.name)} AS d ON ${sql.join(
        perRow.link.on.map(
          (pair) => sql`${sql.ref(`d.${pair.from}`)} = ${sql.ref(`${perRow.scope.alias}.${pair.to}`)}`,
        ),
        sql` AND `,
      )}
      JOIN ${workingTableRef(database, request.recipients.name)} AS w ON ${on}
      WHERE ${perRow.where}`
    : sql`SELECT ${recipient} AS recipient, NULL AS item, ${address} AS address, ${opted} AS opted,
        row_number() OVER (ORDER BY ${sql.join(keys.map((k) => sql.ref(`w.${k}`)))}) AS position
      FROM ${workingTableRef(database, request.recipients.name)} AS w
      JOIN ${database.dialect.dataTableRef(dimension.name)} AS d ON ${on}`;
  // Among the messages that go out, the later ones to an address already served are duplicates (per row
  // of the link with perRowOf: one message about each row to an address, however many recipients share it).
  const first = sql`SELECT b.recipient, b.item, b.address, b.position, ${norm} AS norm, ${reason} AS reason FROM (${base}) AS b`;
  const deduplicated = sql`SELECT f.recipient, f.item, f.address, f.position,
      CASE WHEN f.reason IS NULL AND row_number() OVER (PARTITION BY (f.reason IS NULL), f.norm, f.item ORDER BY f.position) > 1
        THEN 'duplicate-address' ELSE f.reason END AS reason
    FROM (${first}) AS f`;
  // Beyond what the sending window holds, the rest is excluded (and counted), never silently dropped.
  return sql`SELECT g.recipient, g.item, g.address, g.position,
      CASE WHEN g.reason IS NULL AND row_number() OVER (PARTITION BY (g.reason IS NULL) ORDER BY g.position) > ${request.capacity}
        THEN 'window-overflow' ELSE g.reason END AS reason
    FROM (${deduplicated}) AS g`;
}

/**
 * Writes one ledger row per recipient (a live send). Executed again for the same run and activity, it
 * adds nothing: message ids are deterministic. Returns the counts of the ledger for this activity.
 */
export async function queueMessages(database: Database, request: QueueRequest): Promise<QueueCounts> {
  const at = new Date(request.now).toISOString();
  // The name previews.ts gives messageId(): run/activity/recipient, and /row with perRowOf.
  const name = sql`${request.run} || '/' || ${request.activity} || '/' || c.recipient
    || CASE WHEN c.item IS NULL THEN '' ELSE '/' || c.item END`;
  await sql`INSERT INTO messages (id, run_id, activity, campaign_id, channel, recipient, item, address, position,
      status, reason, attempts, next_attempt_at, queued_at, updated_at)
    SELECT ${messageIdSql(database.kind, name)}, ${request.run}, ${request.activity}, ${request.campaign},
      ${request.channel}, c.recipient, c.item, c.address, c.position,
      CASE WHEN c.reason IS NULL THEN 'queued' ELSE 'excluded' END, c.reason, 0, 0, ${at}, ${at}
    FROM (${classified(database, request)}) AS c
    -- SQLite reads ON CONFLICT after a bare SELECT as a join's ON: a WHERE sets it apart.
    WHERE 1 = 1
    ON CONFLICT (id) DO NOTHING`.execute(database.db);
  return ledgerCounts(database, request.run, request.activity);
}

/** What a send would do, without writing anything (a test run). */
export async function previewQueue(database: Database, request: QueueRequest): Promise<QueueCounts> {
  const { rows } = await sql<{ reason: string | null; n: unknown }>`SELECT c.reason, count(*) AS n
    FROM (${classified(database, request)}) AS c GROUP BY c.reason`.execute(database.db);
  return countsOf(
    rows.map((r) => ({ status: r.reason === null ? 'queued' : 'excluded', reason: r.reason, n: r.n })),
  );
}

/**
 * The first message of each of the first `n` recipients that would be sent (a test run's previews), in
 * send order: with perRowOf, previews show different recipients rather than one recipient's rows.
 */
export async function queueSample(
  database: Database,
  request: QueueRequest,
  n: number,
): Promise<Array<{ recipient: string; item: string | null; address: string }>> {
  const { rows } = await sql<{
    recipient: unknown;
    item: string | number | null;
    address: unknown;
  }>`SELECT s.recipient, s.item, s.address
    FROM (SELECT c.recipient, c.item, c.address, c.position,
        row_number() OVER (PARTITION BY c.recipient ORDER BY c.position) AS nth
      FROM (${classified(database, request)}) AS c WHERE c.reason IS NULL) AS s
    WHERE s.nth = 1 ORDER BY s.position LIMIT ${sql.lit(n)}`.execute(database.db);
  return rows.map((r) => ({
    recipient: String(r.recipient),
    item: r.item === null ? null : String(r.item),
    address: String(r.address),
  }));
}

/**
 * A stopped run's messages that were not sent yet are not sent: `excluded`, reason `stopped`. Those being
 * sent right now finish (their sender holds them) and are recorded as they turn out.
 */
export async function cancelQueued(database: Database, run: string): Promise<void> {
  await database.db
    .updateTable('messages')
    .set({ status: 'excluded', reason: 'stopped', updated_at: new Date().toISOString() })
    .where('run_id', '=', run)
    .where('status', '=', 'queued')
    .execute();
}

/** The messages of a channel activity by status, and the excluded ones by reason. */
export async function ledgerCounts(
  database: Database,
  run: string,
  activity: string,
): Promise<QueueCounts & { byStatus: Record<string, number> }> {
  const rows = await database.db
    .selectFrom('messages')
    .select(['status', 'reason', (eb) => eb.fn.countAll().as('n')])
    .where('run_id', '=', run)
    .where('activity', '=', activity)
    .groupBy(['status', 'reason'])
    .execute();
  const byStatus: Record<string, number> = {};
  for (const r of rows) byStatus[r.status] = (byStatus[r.status] ?? 0) + Number(r.n);
  return { ...countsOf(rows), byStatus };
}

function countsOf(rows: Array<{ status: string; reason: string | null; n: unknown }>): QueueCounts {
  const counts: QueueCounts = { queued: 0, excluded: {} };
  for (const r of rows) {
    if (r.status === 'excluded') {
      const reason = r.reason as ExclusionReason;
      counts.excluded[reason] = (counts.excluded[reason] ?? 0) + Number(r.n);
    } else counts.queued += Number(r.n);
  }
  return counts;
}
