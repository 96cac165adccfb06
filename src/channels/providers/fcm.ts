import { createPrivateKey, type KeyObject } from 'node:crypto';
import type { OutgoingPush, Provider, SendResult } from '../types.ts';
import { isRetryableStatus, jsonBody, networkFailure, retryableAnswer } from './http-outcome.ts';
import { signJwt } from './jwt.ts';

/**
 * Firebase Cloud Messaging over its HTTP v1 API. The OAuth2 access token comes from the service account
 * itself (a JWT assertion signed with its key, exchanged at its token_uri), so no Google library is
 * needed; it is reused until shortly before it expires.
 */
export interface FcmServiceAccount {
  project_id: string;
  client_email: string;
  private_key: string;
  token_uri: string;
}

export interface FcmOptions {
  serviceAccount: FcmServiceAccount;
  name?: string;
  /** Default https://fcm.googleapis.com; a local server in tests. */
  baseUrl?: string;
  timeoutMs?: number;
}

export const FCM_SCOPE = 'https://www.googleapis.com/auth/firebase.messaging';

/** A token is renewed this long before it expires, so none is used at the edge of its validity. */
const TOKEN_MARGIN_MS = 60_000;

/** FCM's error codes that mean the device token is dead or belongs to no app of this project. */
const DEAD_TOKEN = new Set(['UNREGISTERED', 'NOT_FOUND', 'SENDER_ID_MISMATCH']);

interface FcmError {
  error?: {
    code?: number;
    message?: string;
    status?: string;
    details?: Array<{
      errorCode?: string;
      fieldViolations?: Array<{ field?: string }>;
    }>;
  };
}

class AccessTokens {
  private cached: { token: string; expiresAt: number } | undefined;
  private pending: Promise<string> | undefined;
  private readonly key: KeyObject;

  constructor(
    private readonly account: FcmServiceAccount,
    private readonly timeoutMs: number,
  ) {
    this.key = createPrivateKey(account.private_key);
  }

  get(): Promise<string> {
    if (this.cached && this.cached.expiresAt - TOKEN_MARGIN_MS > Date.now()) {
      return Promise.resolve(this.cached.token);
    }
    // Messages sent together while the token is renewed share one exchange.
    this.pending ??= this.exchange().finally(() => (this.pending = undefined));
    return this.pending;
  }

  /** An access token refused by FCM (revoked, clock skew) is dropped so the next send asks again. */
  forget(): void {
    this.cached = undefined;
  }

  private async exchange(): Promise<string> {
    const now = Math.floor(Date.now() / 1000);
    const assertion = signJwt('RS256', this.key, {
      iss: this.account.client_email,
      scope: FCM_SCOPE,
      aud: this.account.token_uri,
      iat: now,
      exp: now + 3600,
    });
    const response = await fetch(this.account.token_uri, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'urn:ietf:params:oauth:grant-type:jwt-bearer', assertion }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    const body = (await jsonBody(response)) as
      { access_token?: string; expires_in?: number; error?: string; error_description?: string } | undefined;
    if (!response.ok || !body?.access_token) {
      throw new Error(
        `the service account's token exchange failed (HTTP ${response.status}${body?.error ? `: ${body.error}${body.error_description ? ` ${body.error_description}` : ''}` : ''})`,
      );
    }
    this.cached = { token: body.access_token, expiresAt: Date.now() + (body.expires_in ?? 3600) * 1000 };
    return body.access_token;
  }
}

function fcmMessage(message: OutgoingPush) {
  const link = message.deepLink;
  return {
    message: {
      token: message.token,
      notification: { title: message.title, body: message.body },
      // Apps read the deep link from the data (`link`): FCM has no field for it on Android and iOS.
      data: link ? { ...message.data, link } : message.data,
      android: { priority: 'high' },
      // Web clients open FCM's documented link on a click; FCM accepts only HTTPS there.
      ...(link?.startsWith('https://') ? { webpush: { fcm_options: { link } } } : {}),
    },
  };
}

function errorResult(response: Response, body: FcmError | undefined, tokens: AccessTokens): SendResult {
  const error = body?.error;
  const codes = (error?.details ?? []).map((d) => d.errorCode).filter((c): c is string => Boolean(c));
  const detail = [error?.status, ...codes, error?.message].filter(Boolean).join(' ');
  if (response.status === 401) {
    tokens.forget();
    return { status: 'transient', reason: `HTTP 401 (access token refused): ${detail}` };
  }
  if (isRetryableStatus(response.status)) return retryableAnswer(response, detail);
  const deadToken =
    codes.some((c) => DEAD_TOKEN.has(c)) ||
    error?.status === 'NOT_FOUND' ||
    (error?.status === 'INVALID_ARGUMENT' && concernsToken(error));
  return {
    status: 'permanent',
    reason: `HTTP ${response.status}: ${detail}`,
    bounce: deadToken ? 'hard' : null,
  };
}

/** INVALID_ARGUMENT is about the token when its field violation or its message names the token. */
function concernsToken(error: NonNullable<FcmError['error']>): boolean {
  const fields = (error.details ?? []).flatMap((d) => d.fieldViolations ?? []).map((v) => v.field ?? '');
  return (
    fields.some((f) => f === 'message.token') ||
    /registration token|message\.token/i.test(error.message ?? '')
  );
}

export function createFcmProvider(options: FcmOptions): Provider<'push'> {
  const base = (options.baseUrl ?? 'https://fcm.googleapis.com').replace(/\/+$/, '');
  const timeoutMs = options.timeoutMs ?? 15_000;
  const tokens = new AccessTokens(options.serviceAccount, timeoutMs);
  const url = `${base}/v1/projects/${encodeURIComponent(options.serviceAccount.project_id)}/messages:send`;
  return {
    name: options.name ?? 'fcm',
    channel: 'push',
    // FCM v1 takes no idempotency key.
    idempotent: false,
    async send(message) {
      let accessToken: string;
      try {
        accessToken = await tokens.get();
      } catch (error) {
        return { status: 'transient', reason: `FCM: ${(error as Error).message}` };
      }
      try {
        const response = await fetch(url, {
          method: 'POST',
          headers: { authorization: `Bearer ${accessToken}`, 'content-type': 'application/json' },
          body: JSON.stringify(fcmMessage(message)),
          signal: AbortSignal.timeout(timeoutMs),
        });
        const body = await jsonBody(response);
        if (response.ok) {
          return {
            status: 'accepted',
            providerMessageId: (body as { name?: string } | undefined)?.name ?? null,
          };
        }
        return errorResult(response, body as FcmError | undefined, tokens);
      } catch (error) {
        return networkFailure(error);
      }
    },
    close: () => Promise.resolve(),
  };
}
