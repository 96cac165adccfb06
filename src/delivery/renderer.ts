import { buildRenderContext, type JsonValue } from '../channels/render/context.ts';
import { compileEmail, renderEmail } from '../channels/render/email.ts';
import { compilePush, renderPush } from '../channels/render/push.ts';
import { compileSms, renderSms } from '../channels/render/sms.ts';
import type { OutgoingMessages, SendingChannel } from '../channels/types.ts';
import type { ExtraColumn } from '../engine/working-tables.ts';
import type { TokenSigner } from '../tracking/tokens.ts';

/**
 * One message to render: its ledger id and address, the recipient's row and the columns it carries, and
 * with perRowOf the row of the link it is about.
 */
export interface MessageToRender {
  id: string;
  address: string;
  profile: Record<string, JsonValue>;
  row: Record<string, JsonValue>;
  item?: Record<string, JsonValue>;
}

export type RenderedMessage =
  { outgoing: OutgoingMessages[SendingChannel]; links: string[] } | { excluded: string };

/**
 * A channel activity's content compiled once (MJML included) into a function rendering one message of
 * it: what the senders send, and what a test run previews.
 */
export async function compileRenderer(
  channel: SendingChannel,
  config: Record<string, unknown> & { tracking?: boolean; defaultCountry?: string },
  env: {
    campaign: { id: string; name: string };
    carried: ExtraColumn[];
    signer: TokenSigner;
    publicUrl: string;
    /** Previews show the links as written. */
    tracking?: boolean;
  },
): Promise<(message: MessageToRender) => Promise<RenderedMessage>> {
  const tracking = env.tracking ?? config.tracking !== false;
  const links = { signer: env.signer, publicUrl: env.publicUrl };
  const contextOf = (message: MessageToRender) =>
    buildRenderContext({
      profile: message.profile,
      carried: env.carried.map((c) => c.name),
      row: message.row,
      campaign: env.campaign,
      message: { id: message.id, channel },
      item: message.item,
    });
  if (channel === 'email') {
    const compiled = await compileEmail(config as never);
    const domain = new URL(env.publicUrl).hostname;
    return async (message) => {
      const { email, links: tracked } = await renderEmail(compiled, contextOf(message), {
        ...links,
        messageId: message.id,
        to: message.address,
        tracking,
        domain,
      });
      return { outgoing: email, links: tracked };
    };
  }
  if (channel === 'sms') {
    const compiled = compileSms(config as never);
    return async (message) => {
      const rendered = await renderSms(compiled, contextOf(message), {
        ...links,
        messageId: message.id,
        to: message.address,
        defaultCountry: config.defaultCountry,
        tracking,
      });
      return 'rejected' in rendered
        ? { excluded: rendered.rejected }
        : { outgoing: rendered.sms, links: rendered.links };
    };
  }
  const compiled = compilePush(config as never);
  return async (message) => ({
    outgoing: await renderPush(compiled, contextOf(message), {
      ...links,
      messageId: message.id,
      token: message.address,
      tracking,
    }),
    links: [],
  });
}
