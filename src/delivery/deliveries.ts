import { sql } from 'kysely';
import type { ExecuteContext } from '../activities/types.ts';
import { extraColumns, type WorkingTable } from '../engine/working-tables.ts';
import { UserError } from '../errors.ts';
import { Scope } from '../rules/scope.ts';
import type { Channel, ChannelDef } from '../schema/types.ts';
import {
  ledgerCounts,
  previewQueue,
  queueMessages,
  recipientSql,
  type QueueCounts,
  type QueueRequest,
} from './queue.ts';
import { writeDirectMailFile } from './direct-mail-file.ts';
import { resolvePerRow } from './per-row.ts';
import { renderPreviews } from './previews.ts';
import { pendingMessages } from './sender.ts';

/** How often a channel activity looks whether all its messages are in a final state. */
export const DELIVERY_POLL_MS = 2_000;
const HOUR = 3_600_000;

/** The delivery keys every channel activity's config has (email.ts, sms.ts, push.ts…). */
export interface DeliveryConfig {
  category?: 'marketing' | 'transactional';
  provider?: string;
  /** Messages per second for this activity; with the window, how many can go out at all. */
  rate?: number;
  /** Hours the send may take (12 by default): beyond rate × window, recipients are `window-overflow`. */
  window?: number;
  frequencyCap?: { messages: number; days: number };
  /** One message per row of a link (per-row.ts). */
  perRowOf?: unknown;
  /** A one-shot campaign's live send goes without waiting for a confirmation. */
  sendWithoutConfirmation?: boolean;
}

/**
 * A channel activity's run: in a test run, what would be sent and excluded, per reason, without writing a
 * message; in a live run, the ledger rows (once), then — executed again every few seconds until every
 * message is in a final state — the recipients that were sent, on the `sent` output.
 */
export async function deliver(
  ctx: ExecuteContext,
  channel: Channel,
  config: DeliveryConfig & Record<string, unknown>,
): Promise<void> {
  const input = ctx.inputs[0]!;
  const target = input.dimension.targeting?.find((t) => t.channel === channel);
  if (!target) throw new Error(`${input.dimension.name} has no ${channel} address`);
  const request = queueRequest(ctx, channel, input, target, config);
  if (ctx.mode === 'test') {
    const counts = await previewQueue(ctx.database, request);
    if (channel !== 'direct-mail') await renderPreviews(ctx, channel, config, request);
    // Of the messages: the recipients, or with perRowOf their rows.
    const total = counts.queued + Object.values(counts.excluded).reduce((a, b) => a + b, 0);
    await ctx.log(`test run: would send ${counts.queued} of ${total}${describeExcluded(counts)}`, {
      event: 'channel.preview',
      wouldSend: counts.queued,
      ...prefixed(counts),
    });
    return;
  }
  // Executed again every few seconds while its messages go out: the classification (a scan of every
  // recipient) and its log happen once, when the activity has no ledger rows yet.
  const started = await ctx.database.db
    .selectFrom('messages')
    .select('id')
    .where('run_id', '=', ctx.run)
    .where('activity', '=', ctx.activity)
    .limit(1)
    .executeTakeFirst();
  if (!started) {
    if (!config.sendWithoutConfirmation) await ctx.awaitConfirmation();
    await ctx.database.db
      .insertInto('deliveries')
      .values({
        run_id: ctx.run,
        activity: ctx.activity,
        campaign_id: ctx.campaign,
        channel,
        provider: config.provider ?? 'default',
        dimension: input.dimension.name,
        working_table: input.name,
        columns: JSON.stringify(input.columns),
        config: JSON.stringify(config),
        created_at: new Date(ctx.now).toISOString(),
      })
      .onConflict((oc) => oc.columns(['run_id', 'activity']).doNothing())
      .execute();
    const queued = await queueMessages(ctx.database, request);
    await ctx.log(`${queued.queued} messages to send${describeExcluded(queued)}`, {
      event: 'channel.queued',
      queued: queued.queued,
      ...prefixed(queued),
    });
  }
  if (channel === 'direct-mail') {
    const file = await writeDirectMailFile(ctx, config as unknown as { columns: string[]; folder: string });
    if (file) await ctx.log(`extraction written: ${file}`, { event: 'direct-mail.file', file });
  }
  if ((await pendingMessages(ctx.database, ctx.run, ctx.activity)) > 0)
    await ctx.checkAgainAfter(DELIVERY_POLL_MS);
  const final = await ledgerCounts(ctx.database, ctx.run, ctx.activity);
  const keys = input.dimension.primaryKey;
  // Sent is what went out (`sent_at`): a receipt or a late bounce may already have moved the status on.
  await ctx.output(
    'sent',
    input.dimension,
    sql`SELECT ${sql.join([...keys.map((k) => sql.ref(`w.${k}`)), ...extraColumns(input, 'w')])}
      FROM ${ctx.ref(input)} AS w
      WHERE EXISTS (SELECT 1 FROM messages m WHERE m.run_id = ${ctx.run} AND m.activity = ${ctx.activity}
        AND m.recipient = ${recipientSql(keys, 'w')} AND m.sent_at IS NOT NULL)`,
    { columns: input.columns },
  );
  await ctx.log(
    `every message is final: ${Object.entries(final.byStatus)
      .map(([status, n]) => `${status} ${n}`)
      .join(', ')}`,
    { event: 'channel.done', ...Object.fromEntries(Object.entries(final.byStatus)) },
  );
}

function queueRequest(
  ctx: ExecuteContext,
  channel: Channel,
  recipients: WorkingTable,
  target: ChannelDef,
  config: DeliveryConfig,
): QueueRequest {
  const perRow = resolvePerRow(ctx.schema, recipients.dimension, config);
  let rows: QueueRequest['perRow'];
  if (perRow) {
    const { scope, where } = ctx.rule(perRow.table, perRow.where ?? { and: [] });
    const address = perRow.address && new Scope(ctx.schema, perRow.table).field(perRow.address.split('.'));
    if (typeof address === 'string') throw new UserError(address);
    rows = {
      table: perRow.table,
      link: perRow.linkDef,
      scope,
      where,
      address: address ? scope.column(address) : undefined,
    };
  }
  return {
    perRow: rows,
    run: ctx.run,
    campaign: ctx.campaign,
    activity: ctx.activity,
    channel,
    recipients,
    target,
    category: config.category ?? 'marketing',
    frequencyCap: config.frequencyCap,
    capacity: config.rate
      ? Math.floor((config.rate * (config.window ?? 12) * HOUR) / 1000)
      : Number.MAX_SAFE_INTEGER,
    now: ctx.now,
  };
}

function describeExcluded(counts: QueueCounts): string {
  const parts = Object.entries(counts.excluded).map(([reason, n]) => `${reason} ${n}`);
  return parts.length ? `; excluded: ${parts.join(', ')}` : '';
}

function prefixed(counts: QueueCounts): Record<string, number> {
  return Object.fromEntries(Object.entries(counts.excluded).map(([reason, n]) => [`excluded.${reason}`, n]));
}
