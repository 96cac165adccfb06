import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createHttpSmsProvider } from '../../src/channels/providers/http-sms.ts';
import type { OutgoingSms } from '../../src/channels/types.ts';

interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

type Answer = { status: number; json?: unknown; headers?: Record<string, string> };

/** A local HTTP API that records each request and answers what the test queued (200 {} by default). */
async function startApi() {
  const requests: Recorded[] = [];
  const answers: Answer[] = [];
  const server = http.createServer((request, response) => {
    let body = '';
    request.setEncoding('utf8');
    request.on('data', (chunk: string) => (body += chunk));
    request.on('end', () => {
      requests.push({
        method: request.method ?? '',
        path: request.url ?? '',
        headers: request.headers,
        body,
      });
      const answer = answers.shift() ?? { status: 200, json: {} };
      response.writeHead(answer.status, { 'content-type': 'application/json', ...answer.headers });
      response.end(JSON.stringify(answer.json ?? {}));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    requests,
    answer: (...queued: Answer[]) => answers.push(...queued),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

const sms = (overrides: Partial<OutgoingSms> = {}): OutgoingSms => ({
  messageId: '0b8f6a2e-3d3c-5f43-9c1e-7a0c4f3b2d11',
  to: '+33612345678',
  text: 'Spring sale: -20% until Sunday',
  encoding: 'GSM-7',
  segments: 1,
  ...overrides,
});

describe('HTTP SMS providers against a local API', () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  beforeAll(async () => {
    api = await startApi();
  });
  beforeEach(() => {
    api.requests.length = 0;
  });
  afterAll(() => api.close());

  describe('twilio format', () => {
    const provider = () =>
      createHttpSmsProvider({
        format: 'twilio',
        baseUrl: api.url,
        account: 'AC123',
        token: 'tok-secret',
        from: '+15005550006',
      });

    it('posts the form to the Messages resource with basic auth and the idempotency token', async () => {
      api.answer({ status: 201, json: { sid: 'SM0001', status: 'queued' } });
      const twilio = provider();
      expect(twilio.idempotent).toBe(true);
      const result = await twilio.send(sms(), { idempotencyKey: 'key-1' });
      expect(result).toEqual({ status: 'accepted', providerMessageId: 'SM0001' });
      const [request] = api.requests;
      expect(request?.method).toBe('POST');
      expect(request?.path).toBe('/2010-04-01/Accounts/AC123/Messages.json');
      expect(request?.headers.authorization).toBe(
        `Basic ${Buffer.from('AC123:tok-secret').toString('base64')}`,
      );
      expect(request?.headers['content-type']).toBe('application/x-www-form-urlencoded');
      expect(request?.headers['i-twilio-idempotency-token']).toBe('key-1');
      expect(Object.fromEntries(new URLSearchParams(request?.body))).toEqual({
        To: '+33612345678',
        From: '+15005550006',
        Body: 'Spring sale: -20% until Sunday',
      });
    });

    it('asks for status callbacks at the webhook, naming the ledger message', async () => {
      api.answer({ status: 201, json: { sid: 'SM0003' } });
      const twilio = createHttpSmsProvider({
        format: 'twilio',
        baseUrl: api.url,
        account: 'AC123',
        token: 'tok-secret',
        from: '+15005550006',
        statusCallbackUrl: 'https://baton.example/webhooks/twilio',
      });
      const message = sms();
      await twilio.send(message, { idempotencyKey: 'key-3' });
      expect(new URLSearchParams(api.requests[0]?.body).get('StatusCallback')).toBe(
        `https://baton.example/webhooks/twilio?message=${message.messageId}`,
      );
    });

    it('uses the message sender when it names one', async () => {
      api.answer({ status: 201, json: { sid: 'SM0002' } });
      await provider().send(sms({ from: 'BATON' }), { idempotencyKey: 'key-2' });
      expect(new URLSearchParams(api.requests[0]?.body).get('From')).toBe('BATON');
    });

    it('maps 429 with Retry-After and 5xx to transient', async () => {
      api.answer(
        { status: 429, json: { code: 20429, message: 'Too Many Requests' }, headers: { 'retry-after': '7' } },
        { status: 503, json: {} },
      );
      expect(await provider().send(sms(), { idempotencyKey: 'k' })).toEqual({
        status: 'transient',
        reason: 'HTTP 429: 20429 Too Many Requests',
        retryAfterMs: 7000,
      });
      expect(await provider().send(sms(), { idempotencyKey: 'k' })).toMatchObject({ status: 'transient' });
    });

    it('maps an invalid number to a hard bounce and other 4xx to a permanent failure', async () => {
      api.answer(
        { status: 400, json: { code: 21211, message: "The 'To' number is not a valid phone number." } },
        { status: 400, json: { code: 21606, message: "The 'From' phone number is not valid." } },
      );
      expect(await provider().send(sms(), { idempotencyKey: 'k' })).toMatchObject({
        status: 'permanent',
        bounce: 'hard',
      });
      expect(await provider().send(sms(), { idempotencyKey: 'k' })).toMatchObject({
        status: 'permanent',
        bounce: null,
      });
    });
  });

  describe('vonage format', () => {
    const provider = () =>
      createHttpSmsProvider({
        format: 'vonage',
        baseUrl: api.url,
        account: 'key',
        token: 'secret',
        from: 'BATON',
      });

    it('posts JSON with the key, the number without +, unicode type and the client ref', async () => {
      api.answer({
        status: 200,
        json: { 'message-count': '1', messages: [{ status: '0', 'message-id': 'V-1' }] },
      });
      const vonage = provider();
      expect(vonage.idempotent).toBe(false);
      const result = await vonage.send(sms({ text: 'Żółć 🌷', encoding: 'UCS-2' }), { idempotencyKey: 'k' });
      expect(result).toEqual({ status: 'accepted', providerMessageId: 'V-1' });
      const [request] = api.requests;
      expect(request?.method).toBe('POST');
      expect(request?.path).toBe('/sms/json');
      expect(request?.headers['content-type']).toBe('application/json');
      expect(JSON.parse(request?.body ?? '')).toEqual({
        api_key: 'key',
        api_secret: 'secret',
        from: 'BATON',
        to: '33612345678',
        text: 'Żółć 🌷',
        type: 'unicode',
        'client-ref': '0b8f6a2e-3d3c-5f43-9c1e-7a0c4f3b2d11',
      });
    });

    it('sends GSM-7 text without a type', async () => {
      api.answer({ status: 200, json: { messages: [{ status: '0', 'message-id': 'V-2' }] } });
      await provider().send(sms(), { idempotencyKey: 'k' });
      expect(JSON.parse(api.requests[0]?.body ?? '')).not.toHaveProperty('type');
    });

    it('reads the status of the message: throttled transient, invalid or unroutable hard, others permanent', async () => {
      api.answer(
        { status: 200, json: { messages: [{ status: '1', 'error-text': 'Throttled' }] } },
        { status: 200, json: { messages: [{ status: '3', 'error-text': 'Invalid to number' }] } },
        { status: 200, json: { messages: [{ status: '6', 'error-text': 'Unroutable message' }] } },
        { status: 200, json: { messages: [{ status: '2', 'error-text': 'Missing from param' }] } },
        { status: 500, json: {} },
      );
      expect(await provider().send(sms(), { idempotencyKey: 'k' })).toMatchObject({ status: 'transient' });
      expect(await provider().send(sms(), { idempotencyKey: 'k' })).toMatchObject({
        status: 'permanent',
        bounce: 'hard',
        reason: 'Vonage status 3: Invalid to number',
      });
      expect(await provider().send(sms(), { idempotencyKey: 'k' })).toMatchObject({ bounce: 'hard' });
      expect(await provider().send(sms(), { idempotencyKey: 'k' })).toMatchObject({
        status: 'permanent',
        bounce: null,
      });
      expect(await provider().send(sms(), { idempotencyKey: 'k' })).toMatchObject({ status: 'transient' });
    });
  });

  it('answers transient when the API does not answer in time or cannot be reached', async () => {
    const hanging = http.createServer(() => undefined);
    await new Promise<void>((resolve) => hanging.listen(0, '127.0.0.1', resolve));
    const port = (hanging.address() as AddressInfo).port;
    const slow = createHttpSmsProvider({
      format: 'twilio',
      baseUrl: `http://127.0.0.1:${port}`,
      account: 'AC1',
      token: 't',
      from: '+1',
      timeoutMs: 200,
    });
    expect(await slow.send(sms(), { idempotencyKey: 'k' })).toEqual({
      status: 'transient',
      reason: 'no answer before the timeout',
    });
    hanging.closeAllConnections();
    await new Promise<void>((resolve) => hanging.close(() => resolve()));
    expect(await slow.send(sms(), { idempotencyKey: 'k' })).toMatchObject({
      status: 'transient',
      reason: expect.stringContaining('ECONNREFUSED') as string,
    });
  });
});
