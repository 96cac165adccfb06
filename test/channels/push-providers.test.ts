import {
  createDecipheriv,
  createECDH,
  createPublicKey,
  generateKeyPairSync,
  hkdfSync,
  randomBytes,
  verify,
  type KeyObject,
} from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import http2 from 'node:http2';
import type { AddressInfo } from 'node:net';
import webpush from 'web-push';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createApnsProvider } from '../../src/channels/providers/apns.ts';
import { createFcmProvider, FCM_SCOPE } from '../../src/channels/providers/fcm.ts';
import { createWebPushProvider } from '../../src/channels/providers/web-push.ts';
import type { OutgoingPush } from '../../src/channels/types.ts';

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
}

type Answer = { status: number; body?: unknown; headers?: Record<string, string> };

/** An HTTP/1.1 server recording each request and answering per path what the test queued. */
async function startHttp(defaults: (path: string) => Answer) {
  const requests: Recorded[] = [];
  const queued: Answer[] = [];
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const path = request.url ?? '';
      requests.push({
        method: request.method ?? '',
        path,
        headers: request.headers,
        body: Buffer.concat(chunks),
      });
      const answer = queued.shift() ?? defaults(path);
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    answer: (...answers: Answer[]) => queued.push(...answers),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function decodeJwt(jwt: string, key: KeyObject, algorithm: 'RS256' | 'ES256') {
  const [header, claims, signature] = jwt.split('.') as [string, string, string];
  const valid = verify(
    'sha256',
    Buffer.from(`${header}.${claims}`),
    algorithm === 'ES256' ? { key, dsaEncoding: 'ieee-p1363' } : key,
    Buffer.from(signature, 'base64url'),
  );
  return {
    valid,
    header: JSON.parse(Buffer.from(header, 'base64url').toString()) as Record<string, unknown>,
    claims: JSON.parse(Buffer.from(claims, 'base64url').toString()) as Record<string, unknown>,
  };
}

const push = (overrides: Partial<OutgoingPush> = {}): OutgoingPush => ({
  messageId: '6f1c2b9e-8a55-4f0e-b7d4-1c2a3b4c5d6e',
  token: 'device-token-1',
  title: 'Spring sale',
  body: '-20% until Sunday',
  data: { campaign: 'spring-sale' },
  deepLink: 'https://shop.example/spring',
  ...overrides,
});

describe('FCM HTTP v1', () => {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  let api: Awaited<ReturnType<typeof startHttp>>;
  let tokenCount = 0;
  beforeAll(async () => {
    api = await startHttp((path) => {
      if (path === '/token') {
        tokenCount += 1;
        return { status: 200, body: { access_token: `access-${tokenCount}`, expires_in: 3600 } };
      }
      return { status: 200, body: { name: 'projects/demo-project/messages/0:1234' } };
    });
  });
  beforeEach(() => {
    api.requests.length = 0;
  });
  afterAll(() => api.close());

  const provider = () =>
    createFcmProvider({
      baseUrl: api.url,
      serviceAccount: {
        project_id: 'demo-project',
        client_email: 'baton@demo-project.iam.gserviceaccount.com',
        private_key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
        token_uri: `${api.url}/token`,
      },
    });

  it('gets an access token with an RS256 service-account assertion, once, then sends the message', async () => {
    const fcm = provider();
    const first = await fcm.send(push(), { idempotencyKey: 'k1' });
    const second = await fcm.send(push({ token: 'device-token-2' }), { idempotencyKey: 'k2' });
    expect(first).toEqual({ status: 'accepted', providerMessageId: 'projects/demo-project/messages/0:1234' });
    expect(second.status).toBe('accepted');

    const tokenRequests = api.requests.filter((r) => r.path === '/token');
    expect(tokenRequests).toHaveLength(1);
    const form = new URLSearchParams(tokenRequests[0]?.body.toString());
    expect(form.get('grant_type')).toBe('urn:ietf:params:oauth:grant-type:jwt-bearer');
    const assertion = decodeJwt(form.get('assertion') ?? '', publicKey, 'RS256');
    expect(assertion.valid).toBe(true);
    expect(assertion.header).toEqual({ alg: 'RS256', typ: 'JWT' });
    expect(assertion.claims).toMatchObject({
      iss: 'baton@demo-project.iam.gserviceaccount.com',
      scope: FCM_SCOPE,
      aud: `${api.url}/token`,
    });
    expect((assertion.claims.exp as number) - (assertion.claims.iat as number)).toBe(3600);

    const sends = api.requests.filter((r) => r.path === '/v1/projects/demo-project/messages:send');
    expect(sends).toHaveLength(2);
    expect(sends[0]?.method).toBe('POST');
    expect(sends[0]?.headers.authorization).toMatch(/^Bearer access-\d+$/);
    expect(JSON.parse(sends[0]?.body.toString() ?? '')).toEqual({
      message: {
        token: 'device-token-1',
        notification: { title: 'Spring sale', body: '-20% until Sunday' },
        data: { campaign: 'spring-sale', link: 'https://shop.example/spring' },
        android: { priority: 'high' },
        webpush: { fcm_options: { link: 'https://shop.example/spring' } },
      },
    });
  });

  it('classifies FCM errors', async () => {
    const fcm = provider();
    const error = (status: number, code: string, extra: Record<string, unknown> = {}) => ({
      status,
      body: { error: { code: status, status: code, message: 'refused', ...extra } },
    });
    api.answer(
      { status: 200, body: { access_token: 'a', expires_in: 3600 } },
      error(404, 'NOT_FOUND', {
        details: [
          { '@type': 'type.googleapis.com/google.firebase.fcm.v1.FcmError', errorCode: 'UNREGISTERED' },
        ],
      }),
      error(400, 'INVALID_ARGUMENT', {
        details: [
          { fieldViolations: [{ field: 'message.token', description: 'Invalid registration token' }] },
        ],
      }),
      error(400, 'INVALID_ARGUMENT', { details: [{ fieldViolations: [{ field: 'message.data' }] }] }),
      { ...error(429, 'RESOURCE_EXHAUSTED'), headers: { 'retry-after': '30' } },
      error(503, 'UNAVAILABLE'),
    );
    const send = () => fcm.send(push(), { idempotencyKey: 'k' });
    expect(await send()).toMatchObject({ status: 'permanent', bounce: 'hard' });
    expect(await send()).toMatchObject({ status: 'permanent', bounce: 'hard' });
    expect(await send()).toMatchObject({ status: 'permanent', bounce: null });
    expect(await send()).toMatchObject({ status: 'transient', retryAfterMs: 30_000 });
    expect(await send()).toMatchObject({ status: 'transient' });
  });

  it('asks for a new access token after a 401, and is transient while the exchange fails', async () => {
    const fcm = provider();
    api.answer(
      { status: 200, body: { access_token: 'old', expires_in: 3600 } },
      { status: 401, body: { error: { code: 401, status: 'UNAUTHENTICATED', message: 'expired' } } },
    );
    expect(await fcm.send(push(), { idempotencyKey: 'k' })).toMatchObject({ status: 'transient' });
    expect(await fcm.send(push(), { idempotencyKey: 'k' })).toMatchObject({ status: 'accepted' });
    expect(api.requests.filter((r) => r.path === '/token')).toHaveLength(2);

    const refused = provider();
    api.answer({
      status: 400,
      body: { error: 'invalid_grant', error_description: 'Invalid JWT Signature.' },
    });
    expect(await refused.send(push(), { idempotencyKey: 'k' })).toEqual({
      status: 'transient',
      reason: expect.stringContaining('invalid_grant') as string,
    });
  });
});

describe('APNs over HTTP/2 (h2c test server)', () => {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'prime256v1' });
  const streams: Array<{ headers: http2.IncomingHttpHeaders; body: string }> = [];
  const answers: Array<{ status: number; reason?: string; headers?: Record<string, string> }> = [];
  let server: http2.Http2Server;
  let host: string;

  beforeAll(async () => {
    server = http2.createServer();
    server.on('stream', (stream, headers) => {
      let body = '';
      stream.setEncoding('utf8');
      stream.on('data', (chunk: string) => (body += chunk));
      stream.on('end', () => {
        streams.push({ headers, body });
        const answer = answers.shift() ?? { status: 200 };
        stream.respond({
          ':status': answer.status,
          'apns-id': String(headers['apns-id']),
          ...answer.headers,
        });
        stream.end(answer.reason ? JSON.stringify({ reason: answer.reason }) : '');
      });
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    host = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  beforeEach(() => {
    streams.length = 0;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const provider = () =>
    createApnsProvider({
      key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      keyId: 'ABC123DEFG',
      teamId: 'DEF123GHIJ',
      topic: 'com.example.shop',
      host,
    });

  it('posts the alert with the provider token and APNs headers', async () => {
    const apns = provider();
    const result = await apns.send(push(), { idempotencyKey: 'k' });
    await apns.close();
    expect(result).toEqual({ status: 'accepted', providerMessageId: '6f1c2b9e-8a55-4f0e-b7d4-1c2a3b4c5d6e' });
    const [stream] = streams;
    expect(stream?.headers).toMatchObject({
      ':method': 'POST',
      ':path': '/3/device/device-token-1',
      'apns-topic': 'com.example.shop',
      'apns-push-type': 'alert',
      'apns-id': '6f1c2b9e-8a55-4f0e-b7d4-1c2a3b4c5d6e',
      'apns-priority': '10',
    });
    const jwt = decodeJwt(String(stream?.headers.authorization).replace(/^bearer /, ''), publicKey, 'ES256');
    expect(jwt.valid).toBe(true);
    expect(jwt.header).toEqual({ alg: 'ES256', typ: 'JWT', kid: 'ABC123DEFG' });
    expect(jwt.claims).toEqual({ iss: 'DEF123GHIJ', iat: expect.any(Number) as number });
    expect(JSON.parse(stream?.body ?? '')).toEqual({
      aps: { alert: { title: 'Spring sale', body: '-20% until Sunday' } },
      campaign: 'spring-sale',
      link: 'https://shop.example/spring',
    });
  });

  it('classifies APNs answers, on one HTTP/2 session', async () => {
    const apns = provider();
    answers.push(
      { status: 410, reason: 'Unregistered' },
      { status: 400, reason: 'BadDeviceToken' },
      { status: 400, reason: 'PayloadTooLarge' },
      { status: 429, reason: 'TooManyRequests' },
      { status: 503, reason: 'ServiceUnavailable' },
      { status: 403, reason: 'ExpiredProviderToken' },
    );
    const send = () => apns.send(push(), { idempotencyKey: 'k' });
    expect(await send()).toEqual({ status: 'permanent', reason: 'HTTP 410: Unregistered', bounce: 'hard' });
    expect(await send()).toMatchObject({ status: 'permanent', bounce: 'hard' });
    expect(await send()).toMatchObject({ status: 'permanent', bounce: null });
    expect(await send()).toMatchObject({ status: 'transient' });
    expect(await send()).toMatchObject({ status: 'transient' });
    expect(await send()).toMatchObject({ status: 'transient', reason: 'HTTP 403: ExpiredProviderToken' });
    await apns.close();
  });

  it('answers transient when the host cannot be reached', async () => {
    const apns = createApnsProvider({
      key: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
      keyId: 'K',
      teamId: 'T',
      topic: 'com.example.shop',
      host: 'http://127.0.0.1:1',
    });
    expect(await apns.send(push(), { idempotencyKey: 'k' })).toMatchObject({ status: 'transient' });
    await apns.close();
  });
});

/** Decrypts an aes128gcm Web Push body (RFC 8291) with the subscriber's keys, as a browser would. */
function decryptWebPush(body: Buffer, subscriber: ReturnType<typeof createECDH>, authSecret: Buffer): string {
  const salt = body.subarray(0, 16);
  const idLength = body[20] ?? 0;
  const serverKey = body.subarray(21, 21 + idLength);
  const encrypted = body.subarray(21 + idLength);
  const shared = subscriber.computeSecret(serverKey);
  const keyInfo = Buffer.concat([Buffer.from('WebPush: info\0'), subscriber.getPublicKey(), serverKey]);
  const ikm = Buffer.from(hkdfSync('sha256', shared, authSecret, keyInfo, 32));
  const cek = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: aes128gcm\0'), 16));
  const nonce = Buffer.from(hkdfSync('sha256', ikm, salt, Buffer.from('Content-Encoding: nonce\0'), 12));
  const decipher = createDecipheriv('aes-128-gcm', cek, nonce);
  decipher.setAuthTag(encrypted.subarray(encrypted.length - 16));
  const plain = Buffer.concat([
    decipher.update(encrypted.subarray(0, encrypted.length - 16)),
    decipher.final(),
  ]);
  // The last record ends with the delimiter 0x02 followed by padding zeros.
  return plain.subarray(0, plain.lastIndexOf(2)).toString('utf8');
}

describe('Web Push with VAPID', () => {
  const vapid = webpush.generateVAPIDKeys();
  const subscriber = createECDH('prime256v1');
  subscriber.generateKeys();
  const authSecret = randomBytes(16);
  let api: Awaited<ReturnType<typeof startHttp>>;
  beforeAll(async () => {
    api = await startHttp(() => ({ status: 201, headers: { location: 'https://push.example/m/42' } }));
  });
  beforeEach(() => {
    api.requests.length = 0;
  });
  afterAll(() => api.close());

  const subscription = () =>
    JSON.stringify({
      endpoint: `${api.url}/push/sub-1`,
      keys: {
        p256dh: subscriber.getPublicKey().toString('base64url'),
        auth: authSecret.toString('base64url'),
      },
    });
  const provider = () =>
    createWebPushProvider({
      publicKey: vapid.publicKey,
      privateKey: vapid.privateKey,
      subject: 'mailto:ops@baton.example',
    });

  it('posts an encrypted payload with a VAPID authorization the browser can check', async () => {
    const result = await provider().send(push({ token: subscription() }), { idempotencyKey: 'k' });
    expect(result).toEqual({ status: 'accepted', providerMessageId: 'https://push.example/m/42' });
    const [request] = api.requests;
    expect(request?.method).toBe('POST');
    expect(request?.path).toBe('/push/sub-1');
    expect(request?.headers['content-encoding']).toBe('aes128gcm');
    expect(Number(request?.headers.ttl)).toBeGreaterThan(0);
    const authorization = /^vapid t=([^,]+), k=(.+)$/.exec(String(request?.headers.authorization));
    expect(authorization?.[2]).toBe(vapid.publicKey);
    const point = Buffer.from(vapid.publicKey, 'base64url');
    const key = createPublicKey({
      key: {
        kty: 'EC',
        crv: 'P-256',
        x: point.subarray(1, 33).toString('base64url'),
        y: point.subarray(33, 65).toString('base64url'),
      },
      format: 'jwk',
    });
    const jwt = decodeJwt(authorization?.[1] ?? '', key, 'ES256');
    expect(jwt.valid).toBe(true);
    expect(jwt.claims).toMatchObject({ aud: api.url, sub: 'mailto:ops@baton.example' });
    expect(request?.body.includes(Buffer.from('Spring sale'))).toBe(false);
    expect(JSON.parse(decryptWebPush(request?.body ?? Buffer.alloc(0), subscriber, authSecret))).toEqual({
      title: 'Spring sale',
      body: '-20% until Sunday',
      data: { campaign: 'spring-sale' },
      link: 'https://shop.example/spring',
    });
  });

  it('maps an expired subscription to a hard bounce, 429 to transient, a non-subscription to hard', async () => {
    api.answer(
      { status: 410 },
      { status: 404 },
      { status: 429, headers: { 'retry-after': '5' } },
      { status: 400 },
    );
    const send = (token = subscription()) => provider().send(push({ token }), { idempotencyKey: 'k' });
    expect(await send()).toMatchObject({ status: 'permanent', bounce: 'hard' });
    expect(await send()).toMatchObject({ status: 'permanent', bounce: 'hard' });
    expect(await send()).toMatchObject({ status: 'transient', retryAfterMs: 5000 });
    expect(await send()).toMatchObject({ status: 'permanent', bounce: null });
    expect(await send('not json')).toMatchObject({ status: 'permanent', bounce: 'hard' });
  });
});
