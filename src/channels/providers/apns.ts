import { createPrivateKey, type KeyObject } from 'node:crypto';
import http2 from 'node:http2';
import type { OutgoingPush, Provider, SendResult } from '../types.ts';
import { retryAfterMs } from './http-outcome.ts';
import { signJwt } from './jwt.ts';

/**
 * Apple Push Notification service over HTTP/2 (node:http2), authenticated with a provider token: a JWT
 * signed ES256 with the team's .p8 key. One HTTP/2 session carries every request, as Apple asks.
 */
export interface ApnsOptions {
  /** The .p8 key's PEM text. */
  key: string;
  keyId: string;
  teamId: string;
  /** The app's bundle id (apns-topic). */
  topic: string;
  /**
   * Default https://api.push.apple.com (https://api.sandbox.push.apple.com for development builds). An
   * `http://` host speaks HTTP/2 without TLS (h2c): only for local test servers.
   */
  host?: string;
  name?: string;
  timeoutMs?: number;
}

/** Apple refuses tokens older than an hour and throttles renewals more often than every 20 minutes. */
const PROVIDER_TOKEN_LIFETIME_MS = 40 * 60_000;

/** A session unused this long is closed; the next message opens another. */
const IDLE_SESSION_MS = 5 * 60_000;

/** Reasons that mean the device token will never work for this app. */
const DEAD_TOKEN = new Set(['BadDeviceToken', 'Unregistered', 'DeviceTokenNotForTopic']);

/** Reasons about our credentials: a new provider token (or a fixed key) lets the message through. */
const CREDENTIALS = new Set(['ExpiredProviderToken', 'InvalidProviderToken', 'MissingProviderToken']);

interface Answer {
  status: number;
  headers: http2.IncomingHttpHeaders;
  body: string;
}

function payload(message: OutgoingPush): string {
  return JSON.stringify({
    ...message.data,
    ...(message.deepLink ? { link: message.deepLink } : {}),
    // Last, so that a data key named `aps` cannot replace the alert.
    aps: { alert: { title: message.title, body: message.body } },
  });
}

export function createApnsProvider(options: ApnsOptions): Provider<'push'> {
  const host = (options.host ?? 'https://api.push.apple.com').replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  const key: KeyObject = createPrivateKey(options.key);
  let providerToken: { jwt: string; issuedAt: number } | undefined;
  let session: http2.ClientHttp2Session | undefined;

  const bearer = (): string => {
    if (!providerToken || Date.now() - providerToken.issuedAt > PROVIDER_TOKEN_LIFETIME_MS) {
      const issuedAt = Date.now();
      const jwt = signJwt(
        'ES256',
        key,
        { iss: options.teamId, iat: Math.floor(issuedAt / 1000) },
        { kid: options.keyId },
      );
      providerToken = { jwt, issuedAt };
    }
    return providerToken.jwt;
  };

  const connection = (): http2.ClientHttp2Session => {
    if (session && !session.closed && !session.destroyed) return session;
    const opened = http2.connect(host);
    // A failed or closed session is dropped; the request it carried reports its own error.
    opened.on('error', () => undefined);
    opened.on('close', () => {
      if (session === opened) session = undefined;
    });
    opened.on('goaway', () => {
      if (session === opened) session = undefined;
    });
    opened.setTimeout(IDLE_SESSION_MS, () => opened.close());
    session = opened;
    return opened;
  };

  const request = (message: OutgoingPush): Promise<Answer> =>
    new Promise((resolve, reject) => {
      const stream = connection().request({
        ':method': 'POST',
        ':path': `/3/device/${encodeURIComponent(message.token)}`,
        authorization: `bearer ${bearer()}`,
        'apns-topic': options.topic,
        'apns-push-type': 'alert',
        'apns-id': message.messageId,
        'apns-priority': '10',
        'content-type': 'application/json',
      });
      let timedOut = false;
      stream.setTimeout(timeoutMs, () => {
        timedOut = true;
        stream.close(http2.constants.NGHTTP2_CANCEL);
      });
      let headers: http2.IncomingHttpHeaders = {};
      let body = '';
      let ended = false;
      stream.setEncoding('utf8');
      stream.on('response', (h) => (headers = h));
      stream.on('data', (chunk: string) => (body += chunk));
      stream.on('end', () => (ended = true));
      stream.on('close', () => {
        if (ended) resolve({ status: Number(headers[':status'] ?? 0), headers, body });
        else
          reject(
            new Error(timedOut ? 'no answer before the timeout' : 'the stream closed before the answer'),
          );
      });
      stream.on('error', reject);
      stream.end(payload(message));
    });

  return {
    name: options.name ?? 'apns',
    channel: 'push',
    // apns-id identifies a notification but Apple does not deduplicate on it.
    idempotent: false,
    async send(message): Promise<SendResult> {
      let answer: Answer;
      try {
        answer = await request(message);
      } catch (error) {
        return { status: 'transient', reason: `APNs: ${(error as Error).message}` };
      }
      const apnsId = answer.headers['apns-id'];
      if (answer.status === 200) {
        return {
          status: 'accepted',
          providerMessageId: typeof apnsId === 'string' ? apnsId : message.messageId,
        };
      }
      let reason: string;
      try {
        reason = (JSON.parse(answer.body) as { reason?: string }).reason ?? '';
      } catch {
        reason = answer.body.slice(0, 200);
      }
      const described = `HTTP ${answer.status}${reason ? `: ${reason}` : ''}`;
      if (CREDENTIALS.has(reason)) {
        providerToken = undefined;
        return { status: 'transient', reason: described };
      }
      if (answer.status === 429 || answer.status >= 500) {
        const retryAfter = retryAfterMs(answer.headers['retry-after'] ?? null);
        return {
          status: 'transient',
          reason: described,
          ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
        };
      }
      const dead = answer.status === 410 || DEAD_TOKEN.has(reason);
      return { status: 'permanent', reason: described, bounce: dead ? 'hard' : null };
    },
    close() {
      const open = session;
      session = undefined;
      if (!open || open.closed) return Promise.resolve();
      return new Promise<void>((resolve) => open.close(() => resolve()));
    },
  };
}
