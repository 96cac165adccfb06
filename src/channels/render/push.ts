import type { PushConfig } from '../../activities/push.ts';
import type { OutgoingPush } from '../types.ts';
import type { RenderContext } from './context.ts';
import { compileTemplates, type CompiledTemplate } from './liquid.ts';
import { trackingUrl, type TrackingEnv } from './links.ts';

/**
 * A push activity's title, body, data values and deep link, parsed once and rendered per message as plain
 * text. With tracking on, the data carries `baton_open`: the URL of the message's open token, which the
 * app requests (GET) when the notification is opened, so opens are counted like email opens.
 */
export const OPEN_DATA_KEY = 'baton_open';

export interface CompiledPush {
  title: CompiledTemplate;
  body: CompiledTemplate;
  data: Array<[string, CompiledTemplate]>;
  deepLink?: CompiledTemplate;
}

export interface PushRenderEnv extends TrackingEnv {
  /** The device token or Web Push subscription. */
  token: string;
  tracking: boolean;
}

export function compilePush(content: Pick<PushConfig, 'title' | 'body' | 'data' | 'deepLink'>): CompiledPush {
  const plain = (source: string) => ({ source, escaping: 'none' as const });
  const data = Object.entries(content.data);
  const fields: Record<string, { source: string; escaping: 'none' } | undefined> = {
    title: plain(content.title),
    body: plain(content.body),
    deepLink: content.deepLink === undefined ? undefined : plain(content.deepLink),
  };
  // Data values are reported as `data.<key>`, the path of the key in the activity's config.
  for (const [key, source] of data) fields[`data.${key}`] = plain(source);
  const templates = compileTemplates('The push content', fields);
  return {
    title: templates.title!,
    body: templates.body!,
    data: data.map(([key]) => [key, templates[`data.${key}`]!]),
    deepLink: templates.deepLink,
  };
}

export async function renderPush(
  compiled: CompiledPush,
  context: RenderContext,
  env: PushRenderEnv,
): Promise<OutgoingPush> {
  const entries: Array<[string, string]> = [];
  for (const [key, template] of compiled.data) entries.push([key, await template.render(context)]);
  if (env.tracking)
    entries.push([OPEN_DATA_KEY, trackingUrl(env, { kind: 'open', messageId: env.messageId })]);
  // fromEntries: a data key named like `__proto__` stays a plain key.
  const data: Record<string, string> = Object.fromEntries(entries);
  const push: OutgoingPush = {
    messageId: env.messageId,
    token: env.token,
    title: await compiled.title.render(context),
    body: await compiled.body.render(context),
    data,
  };
  if (compiled.deepLink) push.deepLink = await compiled.deepLink.render(context);
  return push;
}
