import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import { TWILIO_BAD_NUMBER } from '../../channels/providers/http-sms.ts';
import { countIgnored, ledgerId, providerTime, type FeedbackReading } from './feedback.ts';

/**
 * Delivery receipts of the HTTP SMS provider (src/channels/providers/http-sms.ts), in its two formats:
 * - Twilio posts each status change to the StatusCallback URL given with the message, which carries the
 *   ledger id (`?message=`); it signs the URL and the posted fields with the account's auth token
 *   (X-Twilio-Signature: base64 HMAC-SHA1 of the URL followed by every field's name and value, sorted by
 *   name).
 * - Vonage sends its delivery receipts to the account's webhook, with the ledger id in `client-ref`; when
 *   signed webhooks are on, `sig` is the hex MD5 of the sorted `&name=value` fields followed by the
 *   signature secret, or their HMAC under the secret with the method chosen in Vonage's dashboard.
 */
export type Params = Record<string, string>;

export const VONAGE_SIGNATURE_METHODS = ['md5hash', 'md5', 'sha1', 'sha256', 'sha512'] as const;
export type VonageSignatureMethod = (typeof VONAGE_SIGNATURE_METHODS)[number];

/** Vonage's `timestamp` may be this far from our clock: an older signed receipt is a replay. */
export const VONAGE_MAX_SKEW_S = 300;

/** Twilio error codes of a number that will never receive SMS (unknown handset, landline) besides 21xxx. */
const TWILIO_DEAD_NUMBER = new Set([30005, 30006]);
/** Vonage receipt error codes of a number that does not exist: absent subscriber (permanent), illegal number. */
const VONAGE_DEAD_NUMBER = new Set(['3', '9']);

function sameText(a: string, b: string): boolean {
  const left = Buffer.from(a);
  const right = Buffer.from(b);
  return left.length === right.length && timingSafeEqual(left, right);
}

export function twilioSignature(token: string, url: string, params: Params): string {
  const data = Object.keys(params)
    .sort()
    .reduce((text, name) => text + name + params[name], url);
  return createHmac('sha1', token).update(data, 'utf8').digest('base64');
}

export function twilioSignatureValid(token: string, url: string, params: Params, given: string | undefined) {
  return given !== undefined && sameText(twilioSignature(token, url, params), given);
}

export function vonageSignature(secret: string, method: VonageSignatureMethod, params: Params): string {
  const data = Object.keys(params)
    .filter((name) => name !== 'sig')
    .sort()
    .map((name) => `&${name}=${params[name]!.replace(/[&=]/g, '_')}`)
    .join('');
  if (method === 'md5hash')
    return createHash('md5')
      .update(data + secret, 'utf8')
      .digest('hex');
  return createHmac(method, secret).update(data, 'utf8').digest('hex');
}

/** Whether a Vonage receipt is signed with the secret, and recently (its `timestamp`, in seconds). */
export function vonageSignatureValid(
  secret: string,
  method: VonageSignatureMethod,
  params: Params,
  nowMs: number,
): boolean {
  const sig = params.sig?.toLowerCase();
  const timestamp = Number(params.timestamp);
  if (!sig || !Number.isFinite(timestamp)) return false;
  if (Math.abs(nowMs / 1000 - timestamp) > VONAGE_MAX_SKEW_S) return false;
  return sameText(vonageSignature(secret, method, params), sig);
}

export function readTwilioCallback(params: Params, ledgerMessage: string | undefined): FeedbackReading {
  const reading: FeedbackReading = { items: [], ignored: {} };
  const status = (params.MessageStatus ?? params.SmsStatus ?? '').toLowerCase();
  const messageId = ledgerId(ledgerMessage);
  const sid = params.MessageSid ?? params.SmsSid ?? '';
  if (!messageId) {
    countIgnored(reading, 'unidentified');
    return reading;
  }
  const key = `twilio:${sid || messageId}:${status}`;
  if (status === 'delivered') {
    reading.items.push({ kind: 'delivered', messageId, key, reason: null });
  } else if (status === 'undelivered' || status === 'failed') {
    const code = Number(params.ErrorCode);
    const hard = TWILIO_DEAD_NUMBER.has(code) || TWILIO_BAD_NUMBER.has(code);
    const reason = `Twilio ${status}${params.ErrorCode ? `: error ${params.ErrorCode}` : ''}`;
    reading.items.push({ kind: 'bounce', messageId, key, bounce: hard ? 'hard' : 'soft', reason });
  } else {
    countIgnored(reading, status || 'no status');
  }
  return reading;
}

export function readVonageReceipt(params: Params): FeedbackReading {
  const reading: FeedbackReading = { items: [], ignored: {} };
  const status = (params.status ?? '').toLowerCase();
  const messageId = ledgerId(params['client-ref']);
  if (!messageId) {
    countIgnored(reading, 'unidentified');
    return reading;
  }
  const key = `vonage:${params.messageId ?? messageId}:${status}`;
  // Vonage writes its times in UTC without a zone: `2026-11-29 10:00:00`.
  const stamp = params['message-timestamp'];
  const at = providerTime(
    stamp && /^\d{4}-\d\d-\d\d \d\d:\d\d(:\d\d)?$/.test(stamp) ? `${stamp.replace(' ', 'T')}Z` : stamp,
  );
  if (status === 'delivered') {
    reading.items.push({ kind: 'delivered', messageId, key, reason: null, at });
  } else if (status === 'failed' || status === 'rejected' || status === 'expired') {
    const code = params['err-code'] ?? '';
    const hard = status !== 'expired' && VONAGE_DEAD_NUMBER.has(code);
    const reason = `Vonage ${status}${code ? `: error ${code}` : ''}`;
    reading.items.push({ kind: 'bounce', messageId, key, bounce: hard ? 'hard' : 'soft', reason, at });
  } else {
    countIgnored(reading, status || 'no status');
  }
  return reading;
}
