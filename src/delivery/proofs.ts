import { randomUUID } from 'node:crypto';
import { validateCampaign } from '../campaigns/store.ts';
import type { ChannelProviders } from '../channels/providers/registry.ts';
import type { SendResult, SendingChannel } from '../channels/types.ts';
import type { Database } from '../db/database.ts';
import { transitionDimension, type ExtraColumn } from '../engine/working-tables.ts';
import { NotFoundError, UserError } from '../errors.ts';
import { requireSchema } from '../schema/store.ts';
import type { TokenSigner } from '../tracking/tokens.ts';
import { resolvePerRow } from './per-row.ts';
import { itemRows, recipientRows } from './recipient-rows.ts';
import { compileRenderer } from './renderer.ts';

export interface ProofServices {
  providers: ChannelProviders;
  signer: TokenSigner;
  publicUrl: string;
}

export type ProofResult = { recipient: string; to: string } & (
  { result: SendResult } | { excluded: string } | { error: string }
);

/**
 * Proofs: the message a channel activity of a test run would send to some of its recipients (by default
 * the ones previewed), sent now to test addresses instead, with `[Proof]` before an email's subject.
 * Proofs are not ledger rows: nothing about them reaches reports or frequency caps, and their links are
 * not tracked.
 */
export async function sendProofs(
  database: Database,
  services: ProofServices,
  run: string,
  request: { activity: string; to: string[]; recipients?: string[] },
): Promise<ProofResult[]> {
  const row = await database.db
    .selectFrom('runs')
    .select(['document', 'campaign_id', 'purged_at'])
    .where('id', '=', run)
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`No run ${run}.`);
  const checked = await validateCampaign(database, JSON.parse(row.document) as unknown);
  const activity = checked.activities.find((a) => a.id === request.activity);
  const channel = activity?.definition.type as SendingChannel | undefined;
  if (!activity || !channel || !['email', 'sms', 'push'].includes(channel))
    throw new UserError(`Run ${run} has no email, SMS or push activity ${request.activity}.`, {
      status: 404,
    });
  const input = activity.inputs[0]!;
  const transition = await database.db
    .selectFrom('run_transitions')
    .selectAll()
    .where('run_id', '=', run)
    .where('activity', '=', input.activity)
    .where('port', '=', input.port)
    .executeTakeFirst();
  if (!transition || row.purged_at)
    throw new UserError(
      `The recipients of ${request.activity} are not in run ${run} (the run did not reach it, or its rows were dropped): run a test again.`,
      { status: 409 },
    );
  const { schema } = await requireSchema(database);
  const dimension = transitionDimension(schema, transition.dimension ?? '')!;
  const carried = JSON.parse(transition.columns ?? '[]') as ExtraColumn[];
  const previews = await database.db
    .selectFrom('message_previews')
    .select(['recipient', 'content'])
    .where('run_id', '=', run)
    .where('activity', '=', request.activity)
    .orderBy('recipient')
    .execute();
  const recipients = request.recipients ?? previews.map((p) => p.recipient);
  // With perRowOf, a message is about one row of the link: a proof shows the row its preview showed.
  const perRow = resolvePerRow(schema, dimension, activity.config);
  const previewedItems = new Map(
    previews.map((p) => [p.recipient, (JSON.parse(p.content) as { item?: string }).item]),
  );
  const items = perRow
    ? await itemRows(
        database,
        perRow.table,
        [...previewedItems.values()].filter((i) => i !== undefined),
      )
    : undefined;
  const config = { ...activity.config };
  if (channel === 'email') config.subject = `[Proof] ${String(config.subject)}`;
  const campaign = await database.db
    .selectFrom('campaigns')
    .select('name')
    .where('id', '=', row.campaign_id)
    .executeTakeFirst();
  const render = await compileRenderer(channel, config, {
    campaign: { id: row.campaign_id, name: campaign?.name ?? row.campaign_id },
    carried,
    signer: services.signer,
    publicUrl: services.publicUrl,
    tracking: false,
  });
  const provider = services.providers.get(channel, config.provider as string | undefined);
  const rows = await recipientRows(
    database,
    { dimension, carried, workingTable: transition.working_table },
    recipients,
  );
  const results: ProofResult[] = [];
  for (const recipient of recipients) {
    const found = rows.get(recipient);
    const itemKey = previewedItems.get(recipient);
    const item = itemKey === undefined ? undefined : items?.get(itemKey);
    for (const to of request.to) {
      if (!found) {
        results.push({ recipient, to, error: `no recipient ${recipient} in the activity's input` });
        continue;
      }
      if (items && !item) {
        results.push({
          recipient,
          to,
          error: `${request.activity} sends one message per row of ${perRow?.link}: proofs are sent for previewed recipients only, and ${recipient} was not previewed`,
        });
        continue;
      }
      const id = randomUUID();
      try {
        const rendered = await render({ id, address: to, ...found, item });
        if ('excluded' in rendered) results.push({ recipient, to, excluded: rendered.excluded });
        else
          results.push({
            recipient,
            to,
            result: await provider.send(rendered.outgoing, { idempotencyKey: id }),
          });
      } catch (error) {
        if (!(error instanceof UserError)) throw error;
        results.push({ recipient, to, error: error.message });
      }
    }
  }
  return results;
}
