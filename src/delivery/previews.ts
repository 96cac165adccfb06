import { randomBytes } from 'node:crypto';
import type { ExecuteContext } from '../activities/types.ts';
import type { SendingChannel } from '../channels/types.ts';
import type { Database } from '../db/database.ts';
import { NotFoundError, UserError } from '../errors.ts';
import { TokenSigner } from '../tracking/tokens.ts';
import { messageId } from './message-id.ts';
import { queueSample, type QueueRequest } from './queue.ts';
import { itemRows, recipientRows } from './recipient-rows.ts';
import { compileRenderer } from './renderer.ts';

/** Recipients whose message a test run renders for its previews. */
export const PREVIEW_SAMPLE = 3;
/** Preview links are shown as written; the few Baton URLs in them (unsubscribe) point nowhere real. */
const PREVIEW_URL = 'https://preview.baton.invalid';

/**
 * A test run's previews of a channel activity: the messages of the first recipients that would be sent,
 * rendered as they would go out (tracking aside), kept with the run. A recipient whose message cannot be
 * rendered gets the reason instead, which is what a test run is for.
 */
export async function renderPreviews(
  ctx: ExecuteContext,
  channel: SendingChannel,
  config: Record<string, unknown>,
  request: QueueRequest,
): Promise<number> {
  const input = ctx.inputs[0]!;
  const sample = await queueSample(ctx.database, request, PREVIEW_SAMPLE);
  if (sample.length === 0) return 0;
  const campaign = await ctx.database.db
    .selectFrom('campaigns')
    .select('name')
    .where('id', '=', ctx.campaign)
    .executeTakeFirst();
  // A key of its own: previews must never carry a token that Baton's endpoints would accept.
  const signer = new TokenSigner({
    current: { id: 0, secret: randomBytes(32).toString('hex') },
    previous: [],
  });
  const render = await compileRenderer(channel, config, {
    campaign: { id: ctx.campaign, name: campaign?.name ?? ctx.campaign },
    carried: input.columns,
    signer,
    publicUrl: PREVIEW_URL,
    tracking: false,
  });
  const rows = await recipientRows(
    ctx.database,
    { dimension: input.dimension, carried: input.columns, workingTable: input.name },
    sample.map((s) => s.recipient),
  );
  const items = request.perRow
    ? await itemRows(
        ctx.database,
        request.perRow.table,
        sample.flatMap((s) => (s.item === null ? [] : [s.item])),
      )
    : undefined;
  for (const { recipient, item, address } of sample) {
    const found = rows.get(recipient)!;
    let content: Record<string, unknown>;
    try {
      const rendered = await render({
        // The id the live send would give it (queue.ts queueMessages).
        id: messageId(`${ctx.run}/${ctx.activity}/${recipient}${item === null ? '' : `/${item}`}`),
        address,
        ...found,
        item: item === null ? undefined : items?.get(item),
      });
      content = 'excluded' in rendered ? { excluded: rendered.excluded } : { message: rendered.outgoing };
    } catch (error) {
      if (!(error instanceof UserError)) throw error;
      content = { error: error.message };
    }
    // Which row of the link the message is about (perRowOf): what a proof of it renders again.
    if (item !== null) content.item = item;
    await ctx.database.db
      .insertInto('message_previews')
      .values({
        run_id: ctx.run,
        activity: ctx.activity,
        recipient,
        channel,
        content: JSON.stringify(content),
      })
      .onConflict((oc) => oc.columns(['run_id', 'activity', 'recipient']).doNothing())
      .execute();
  }
  return sample.length;
}

/** A run's previews, by activity and recipient. */
export async function listPreviews(
  database: Database,
  run: string,
): Promise<Array<{ activity: string; recipient: string; channel: string; content: unknown }>> {
  const exists = await database.db.selectFrom('runs').select('id').where('id', '=', run).executeTakeFirst();
  if (!exists) throw new NotFoundError(`No run ${run}.`);
  const rows = await database.db
    .selectFrom('message_previews')
    .selectAll()
    .where('run_id', '=', run)
    .orderBy('activity')
    .orderBy('recipient')
    .execute();
  return rows.map((r) => ({
    activity: r.activity,
    recipient: r.recipient,
    channel: r.channel,
    content: JSON.parse(r.content) as unknown,
  }));
}
