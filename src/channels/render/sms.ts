import { isSupportedCountry, parsePhoneNumberFromString } from 'libphonenumber-js/max';
import type { SmsConfig } from '../../activities/sms.ts';
import type { OutgoingSms } from '../types.ts';
import type { RenderContext } from './context.ts';
import { compileTemplates, TemplateRenderError, type CompiledTemplate } from './liquid.ts';
import { LinkTracker, trackTextLinks, unsubscribeUrl, type TrackingEnv } from './links.ts';
import { smsSize } from './segments.ts';

/** An SMS activity's text, parsed once, rendered per message (no HTML escaping: it is plain text). */
export interface CompiledSms {
  text: CompiledTemplate;
}

export interface SmsRenderEnv extends TrackingEnv {
  /** The recipient's number as the profile holds it (`06 12 34 56 78`, `+33612345678`…). */
  to: string;
  /** ISO 3166 country of numbers written without their country code (`FR`); none: they must have one. */
  defaultCountry?: string;
  /** Replace links by short signed click URLs. */
  tracking: boolean;
  /** The sender (a number or an alphanumeric id), when the provider needs one per message. */
  from?: string;
}

export type RenderedSms =
  | { sms: OutgoingSms; links: string[] }
  /** The address cannot be sent to: the message is excluded with this reason, not failed. */
  | { rejected: 'malformed-address' };

export function compileSms(content: Pick<SmsConfig, 'text'>): CompiledSms {
  const { text } = compileTemplates('The SMS content', { text: { source: content.text, escaping: 'none' } });
  return { text: text! };
}

/** A phone number in E.164 (`+33612345678`), or undefined when it is not a valid number. */
export function normalisePhone(raw: string, defaultCountry?: string): string | undefined {
  const country =
    defaultCountry !== undefined && isSupportedCountry(defaultCountry) ? defaultCountry : undefined;
  const parsed = parsePhoneNumberFromString(raw, { defaultCountry: country, extract: false });
  return parsed?.isValid() ? parsed.number : undefined;
}

export async function renderSms(
  compiled: CompiledSms,
  context: RenderContext,
  env: SmsRenderEnv,
): Promise<RenderedSms> {
  const to = normalisePhone(env.to, env.defaultCountry);
  if (to === undefined) return { rejected: 'malformed-address' };
  const tracker = new LinkTracker(env);
  let text = await compiled.text.render({ ...context, unsubscribe_url: unsubscribeUrl(env) });
  if (text.trim() === '') throw new TemplateRenderError('the SMS text is empty for this recipient');
  if (env.tracking) text = trackTextLinks(text, tracker);
  const { encoding, segments } = smsSize(text);
  const sms: OutgoingSms = { messageId: env.messageId, to, text, encoding, segments };
  if (env.from !== undefined) sms.from = env.from;
  return { sms, links: env.tracking ? tracker.links : [] };
}
