import webpush, { type PushSubscription } from 'web-push';
import type { OutgoingPush, Provider, SendResult } from '../types.ts';
import { isRetryableStatus, networkFailure, retryableAnswer } from './http-outcome.ts';

/**
 * Web Push (RFC 8030) with VAPID (RFC 8292). The web-push package encrypts the payload (aes128gcm) and
 * signs the VAPID token; the request itself goes through fetch like every other HTTP provider, for the
 * same timeout and Retry-After handling (and so a plain-HTTP push endpoint works in tests).
 */
export interface WebPushOptions {
  /** The VAPID key pair, base64url as `web-push generate-vapid-keys` prints it. */
  publicKey: string;
  privateKey: string;
  /** A `mailto:` or `https:` contact for the push services. */
  subject: string;
  name?: string;
  /** Seconds a push service keeps an undelivered notification. */
  ttlSeconds?: number;
  timeoutMs?: number;
}

/** The subscription a browser produced (the recipient's token), or undefined when it is not one. */
function subscriptionOf(token: string): PushSubscription | undefined {
  try {
    const parsed = JSON.parse(token) as Partial<PushSubscription>;
    if (typeof parsed.endpoint !== 'string' || !/^https?:\/\//.test(parsed.endpoint)) return undefined;
    if (typeof parsed.keys?.p256dh !== 'string' || typeof parsed.keys.auth !== 'string') return undefined;
    return { endpoint: parsed.endpoint, keys: { p256dh: parsed.keys.p256dh, auth: parsed.keys.auth } };
  } catch {
    return undefined;
  }
}

function notification(message: OutgoingPush): string {
  return JSON.stringify({
    title: message.title,
    body: message.body,
    data: message.data,
    ...(message.deepLink ? { link: message.deepLink } : {}),
  });
}

export function createWebPushProvider(options: WebPushOptions): Provider<'push'> {
  const timeoutMs = options.timeoutMs ?? 15_000;
  return {
    name: options.name ?? 'web-push',
    channel: 'push',
    idempotent: false,
    async send(message): Promise<SendResult> {
      const subscription = subscriptionOf(message.token);
      if (!subscription) {
        return {
          status: 'permanent',
          reason: 'the token is not a Web Push subscription (JSON with endpoint and keys)',
          bounce: 'hard',
        };
      }
      let request: ReturnType<typeof webpush.generateRequestDetails>;
      try {
        request = webpush.generateRequestDetails(subscription, notification(message), {
          vapidDetails: {
            subject: options.subject,
            publicKey: options.publicKey,
            privateKey: options.privateKey,
          },
          TTL: options.ttlSeconds ?? 4 * 7 * 24 * 3600,
          contentEncoding: 'aes128gcm',
        });
      } catch (error) {
        // Keys of the wrong length or curve: this subscription can never be encrypted for.
        return { status: 'permanent', reason: `Web Push: ${(error as Error).message}`, bounce: 'hard' };
      }
      try {
        const response = await fetch(request.endpoint, {
          method: request.method,
          headers: request.headers,
          body: request.body ?? undefined,
          signal: AbortSignal.timeout(timeoutMs),
        });
        const text = (await response.text()).slice(0, 200);
        if (response.ok) return { status: 'accepted', providerMessageId: response.headers.get('location') };
        if (isRetryableStatus(response.status)) return retryableAnswer(response, text);
        // 404 and 410: the subscription expired or the user revoked it.
        const gone = response.status === 404 || response.status === 410;
        return {
          status: 'permanent',
          reason: `HTTP ${response.status}${text ? `: ${text}` : ''}`,
          bounce: gone ? 'hard' : null,
        };
      } catch (error) {
        return networkFailure(error);
      }
    },
    close: () => Promise.resolve(),
  };
}
