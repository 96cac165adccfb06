import type { ChannelProviders } from '../channels/providers/registry.ts';
import { TemplateRenderError } from '../channels/render/liquid.ts';
import type { Provider, SendingChannel } from '../channels/types.ts';
import type { Database } from '../db/database.ts';
import type { ExtraColumn } from '../engine/working-tables.ts';
import { UserError } from '../errors.ts';
import { requireSchema } from '../schema/store.ts';
import { findTable, type TableDef } from '../schema/types.ts';
import type { TokenSigner } from '../tracking/tokens.ts';
import type { DeliveryConfig } from './deliveries.ts';
import { resolvePerRow } from './per-row.ts';
import { itemRows, recipientRows } from './recipient-rows.ts';
import { compileRenderer, type MessageToRender, type RenderedMessage } from './renderer.ts';
import type { ClaimedMessage, Composed, Composer } from './sender.ts';

export interface ComposerOptions {
  providers: ChannelProviders;
  signer: TokenSigner;
  /** Base of tracking links (BATON_PUBLIC_URL). */
  publicUrl: string;
  /** Messages per second of each channel's providers (EMAIL_RATE…); 0 or absent: no limit. */
  providerRates?: Partial<Record<SendingChannel, number>>;
}

/** A channel activity's delivery, loaded once: its content compiled, its provider, its recipients' table. */
interface LoadedDelivery {
  channel: SendingChannel;
  campaign: { id: string; name: string };
  config: DeliveryConfig & { tracking?: boolean; defaultCountry?: string };
  dimension: TableDef;
  workingTable: string;
  carried: ExtraColumn[];
  /** With perRowOf, the link's table, whose rows the messages are about. */
  items?: TableDef;
  provider: Provider;
  render: (message: MessageToRender) => Promise<RenderedMessage>;
}

/**
 * Makes sendable messages of claimed ledger rows: loads each delivery once (content compiled — MJML once
 * per activity), reads the recipients of a batch in one query (their row of the dimension and the columns
 * their working table carries), renders each message and binds it to its provider.
 */
export class LedgerComposer implements Composer {
  private readonly deliveries = new Map<string, Promise<LoadedDelivery>>();

  constructor(
    private readonly database: Database,
    private readonly options: ComposerOptions,
  ) {}

  async idempotent(run: string, activity: string): Promise<boolean> {
    return (await this.delivery(run, activity)).provider.idempotent;
  }

  async rates(run: string, activity: string): Promise<Array<{ bucket: string; perSecond: number }>> {
    const { config, channel, provider } = await this.delivery(run, activity);
    const providerRate = this.options.providerRates?.[channel] ?? 0;
    return [
      ...(config.rate ? [{ bucket: `activity:${run}/${activity}`, perSecond: config.rate }] : []),
      ...(providerRate > 0
        ? [{ bucket: `provider:${channel}/${provider.name}`, perSecond: providerRate }]
        : []),
    ];
  }

  async compose(messages: ClaimedMessage[]): Promise<Composed[]> {
    const groups = new Map<string, ClaimedMessage[]>();
    for (const m of messages) {
      const key = `${m.run}/${m.activity}`;
      groups.set(key, [...(groups.get(key) ?? []), m]);
    }
    const composed: Composed[] = [];
    for (const group of groups.values()) {
      const delivery = await this.delivery(group[0]!.run, group[0]!.activity);
      const rows = await recipientRows(
        this.database,
        delivery,
        group.map((m) => m.recipient),
      );
      const items = delivery.items
        ? await itemRows(
            this.database,
            delivery.items,
            group.flatMap((m) => (m.item === null ? [] : [m.item])),
          )
        : undefined;
      for (const message of group) {
        const found = rows.get(message.recipient);
        const item = items && message.item !== null ? items.get(message.item) : undefined;
        if (!found || (items && !item)) {
          composed.push({
            id: message.id,
            failed: `the ${found ? `row ${message.item} of ${delivery.items?.name}` : 'recipient'} is no longer in its table`,
          });
          continue;
        }
        try {
          const rendered = await delivery.render({
            id: message.id,
            address: message.address,
            ...found,
            item,
          });
          if ('excluded' in rendered) composed.push({ id: message.id, excluded: rendered.excluded });
          else {
            const provider = delivery.provider;
            composed.push({
              id: message.id,
              links: rendered.links,
              provider: provider.name,
              send: (idempotencyKey) => provider.send(rendered.outgoing, { idempotencyKey }),
            });
          }
        } catch (error) {
          // A template that cannot be rendered for this recipient fails the message, not the batch.
          if (!(error instanceof TemplateRenderError)) throw error;
          composed.push({ id: message.id, failed: `the message could not be rendered: ${error.message}` });
        }
      }
    }
    return composed;
  }

  private delivery(run: string, activity: string): Promise<LoadedDelivery> {
    const key = `${run}/${activity}`;
    let loaded = this.deliveries.get(key);
    if (!loaded) {
      loaded = this.load(run, activity);
      // A delivery that cannot be loaded is tried again next time, not remembered as broken.
      loaded.catch(() => this.deliveries.delete(key));
      this.deliveries.set(key, loaded);
    }
    return loaded;
  }

  private async load(run: string, activity: string): Promise<LoadedDelivery> {
    const row = await this.database.db
      .selectFrom('deliveries')
      .selectAll()
      .where('run_id', '=', run)
      .where('activity', '=', activity)
      .executeTakeFirst();
    if (!row) throw new UserError(`No delivery for activity ${activity} of run ${run}.`);
    const { schema } = await requireSchema(this.database);
    const dimension = findTable(schema, row.dimension);
    if (!dimension) throw new UserError(`The table ${row.dimension} of the delivery ${activity} is gone.`);
    const campaign = await this.database.db
      .selectFrom('campaigns')
      .select(['id', 'name'])
      .where('id', '=', row.campaign_id)
      .executeTakeFirst();
    const channel = row.channel as SendingChannel;
    const config = JSON.parse(row.config) as LoadedDelivery['config'] & Record<string, unknown>;
    const carried = JSON.parse(row.columns) as ExtraColumn[];
    const provider = this.options.providers.get(
      channel,
      row.provider === 'default' ? undefined : row.provider,
    );
    const campaignInfo = { id: row.campaign_id, name: campaign?.name ?? row.campaign_id };
    const render = await compileRenderer(channel, config, {
      campaign: campaignInfo,
      carried,
      signer: this.options.signer,
      publicUrl: this.options.publicUrl,
    });
    return {
      channel,
      campaign: campaignInfo,
      config,
      dimension,
      workingTable: row.working_table,
      carried,
      items: resolvePerRow(schema, dimension, config)?.table,
      provider,
      render,
    };
  }
}
