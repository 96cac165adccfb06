import type { OutgoingSms, Provider, SendResult } from '../types.ts';
import { isRetryableStatus, jsonBody, networkFailure, retryableAnswer } from './http-outcome.ts';

/**
 * SMS through an HTTP API, in one of two request formats that most SMS gateways copy: Twilio's
 * (form-encoded, basic auth, an idempotency header) and Vonage's SMS API (JSON with the key and secret in
 * the body). Only Twilio honours an idempotency key, so only it is `idempotent`.
 */
export type SmsFormat = 'twilio' | 'vonage';

export interface HttpSmsOptions {
  format: SmsFormat;
  /** The name campaign documents use (default: the format). */
  name?: string;
  /** Default https://api.twilio.com or https://rest.nexmo.com; a local server in tests. */
  baseUrl?: string;
  /** Twilio: the account SID; Vonage: the API key. */
  account: string;
  /** Twilio: the auth token; Vonage: the API secret. */
  token: string;
  /** The sender when the message names none (a number, a short code or an alphanumeric id). */
  from: string;
  timeoutMs?: number;
  /**
   * Twilio: where it posts each message's status changes (`<public URL>/webhooks/<name>`); the ledger id
   * is added as `?message=`. Vonage sends its receipts to the account's webhook instead.
   */
  statusCallbackUrl?: string;
}

const DEFAULT_BASE_URL: Record<SmsFormat, string> = {
  twilio: 'https://api.twilio.com',
  vonage: 'https://rest.nexmo.com',
};

/** Twilio error codes that say the number itself cannot receive SMS (invalid, landline, not a phone). */
export const TWILIO_BAD_NUMBER = new Set([21211, 21214, 21217, 21401, 21407, 21614]);

/** Vonage statuses: throttled, bad credentials, internal error, account barred or out of quota. */
const VONAGE_TRANSIENT = new Set(['1', '4', '5', '8', '9']);
/** Vonage statuses that refuse the number: invalid parameters (the number), unroutable, barred. */
const VONAGE_BAD_NUMBER = new Set(['3', '6', '7']);

type Request = { url: string; init: RequestInit };

function twilioRequest(options: HttpSmsOptions, base: string, message: OutgoingSms, key: string): Request {
  return {
    url: `${base}/2010-04-01/Accounts/${encodeURIComponent(options.account)}/Messages.json`,
    init: {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${options.account}:${options.token}`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
        'I-Twilio-Idempotency-Token': key,
      },
      body: new URLSearchParams({
        To: message.to,
        From: message.from ?? options.from,
        Body: message.text,
        ...(options.statusCallbackUrl
          ? {
              StatusCallback: `${options.statusCallbackUrl}?message=${encodeURIComponent(message.messageId)}`,
            }
          : {}),
      }),
    },
  };
}

function vonageRequest(options: HttpSmsOptions, base: string, message: OutgoingSms): Request {
  return {
    url: `${base}/sms/json`,
    init: {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        api_key: options.account,
        api_secret: options.token,
        from: message.from ?? options.from,
        // Vonage wants the international number without its leading +.
        to: message.to.replace(/^\+/, ''),
        text: message.text,
        ...(message.encoding === 'UCS-2' ? { type: 'unicode' } : {}),
        'client-ref': message.messageId,
      }),
    },
  };
}

async function twilioResult(response: Response): Promise<SendResult> {
  const body = (await jsonBody(response)) as { sid?: string; code?: number; message?: string } | undefined;
  if (response.ok) return { status: 'accepted', providerMessageId: body?.sid ?? null };
  const detail = body?.message ? `${body.code ?? ''} ${body.message}`.trim() : '';
  if (isRetryableStatus(response.status)) return retryableAnswer(response, detail);
  const bounce = body?.code !== undefined && TWILIO_BAD_NUMBER.has(body.code) ? 'hard' : null;
  return { status: 'permanent', reason: `HTTP ${response.status}: ${detail || 'refused'}`, bounce };
}

async function vonageResult(response: Response): Promise<SendResult> {
  if (!response.ok) {
    if (isRetryableStatus(response.status)) return retryableAnswer(response, '');
    return { status: 'permanent', reason: `HTTP ${response.status}`, bounce: null };
  }
  const body = (await jsonBody(response)) as
    { messages?: Array<{ status?: string; 'message-id'?: string; 'error-text'?: string }> } | undefined;
  const first = body?.messages?.[0];
  if (!first) return { status: 'transient', reason: 'Vonage answered without a message status' };
  if (first.status === '0') return { status: 'accepted', providerMessageId: first['message-id'] ?? null };
  const reason = `Vonage status ${first.status ?? '?'}: ${first['error-text'] ?? 'refused'}`;
  if (VONAGE_TRANSIENT.has(first.status ?? '')) return { status: 'transient', reason };
  return { status: 'permanent', reason, bounce: VONAGE_BAD_NUMBER.has(first.status ?? '') ? 'hard' : null };
}

export function createHttpSmsProvider(options: HttpSmsOptions): Provider<'sms'> {
  const base = (options.baseUrl ?? DEFAULT_BASE_URL[options.format]).replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  return {
    name: options.name ?? options.format,
    channel: 'sms',
    idempotent: options.format === 'twilio',
    async send(message, { idempotencyKey }) {
      const request =
        options.format === 'twilio'
          ? twilioRequest(options, base, message, idempotencyKey)
          : vonageRequest(options, base, message);
      let response: Response;
      try {
        response = await fetch(request.url, { ...request.init, signal: AbortSignal.timeout(timeoutMs) });
      } catch (error) {
        return networkFailure(error);
      }
      try {
        return await (options.format === 'twilio' ? twilioResult(response) : vonageResult(response));
      } catch (error) {
        // The body was cut short: the API may have taken the message, so it is worth asking again.
        return networkFailure(error);
      }
    },
    close: () => Promise.resolve(),
  };
}
