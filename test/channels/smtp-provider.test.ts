import { generateKeyPairSync, randomUUID } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
// The package's main entry needs Node 22 (it loads undici 8 for BIMI); DKIM verification alone does not.
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createSmtpProvider } from '../../src/channels/providers/smtp.ts';
import type { OutgoingEmail, Provider } from '../../src/channels/types.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';

function email(to: string, id = randomUUID()): OutgoingEmail {
  return {
    messageId: id,
    from: 'Baton <news@baton.example>',
    to,
    subject: `Hello ${id.slice(0, 8)}`,
    html: `<p>Hello <b>${id}</b></p>`,
    text: `Hello ${id}`,
    headers: {
      'Message-ID': `<${id}@baton.example>`,
      'List-Unsubscribe': `<https://baton.example/u/${id}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
  };
}

const send = (provider: Provider<'email'>, message: OutgoingEmail) =>
  provider.send(message, { idempotencyKey: message.messageId });

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

describe('SMTP provider against a fault-injecting sink', () => {
  let sink: SmtpSink;
  let provider: Provider<'email'>;

  beforeAll(async () => {
    sink = await startSmtpSink({ slowMs: 1500 });
    provider = createSmtpProvider({ url: sink.url, socketTimeoutMs: 600, maxConnections: 3 });
  });
  afterAll(async () => {
    await provider.close();
    await sink.close();
  });

  it('delivers a message with the Message-ID and headers given, and reports the queue id', async () => {
    const message = email('ada@example.test');
    const result = await send(provider, message);
    expect(result).toEqual({
      status: 'accepted',
      providerMessageId: expect.stringMatching(/^SINK\d+$/) as string,
    });
    const got = sink.received().find((m) => m.messageId === `<${message.messageId}@baton.example>`);
    expect(got).toBeDefined();
    expect(got?.envelope).toEqual({ from: 'news@baton.example', to: ['ada@example.test'] });
    expect(got?.subject).toBe(message.subject);
    expect(got?.html).toBe(message.html);
    expect(got?.text?.trim()).toBe(message.text);
    expect(got?.raw).toMatch(/^List-Unsubscribe-Post: List-Unsubscribe=One-Click\r?$/m);
    expect(got?.raw.match(/^Message-ID:/gim)).toHaveLength(1);
  });

  it('keeps a Message-ID derived from the ledger id when the headers carry none', async () => {
    const message = { ...email('bob@example.test'), headers: {} };
    expect((await send(provider, message)).status).toBe('accepted');
    expect(sink.received().some((m) => m.messageId === `<${message.messageId}@baton.example>`)).toBe(true);
  });

  it('answers transient to 4xx until the server accepts', async () => {
    const to = 'temp4xx-2-carol@example.test';
    const first = await send(provider, email(to));
    expect(first).toMatchObject({ status: 'transient', reason: expect.stringContaining('451') as string });
    expect((await send(provider, email(to))).status).toBe('transient');
    expect((await send(provider, email(to))).status).toBe('accepted');
    expect(sink.attempts(to)).toBe(3);
  });

  it('classifies 5xx refusals: unknown mailbox hard, full mailbox soft, policy no bounce', async () => {
    expect(await send(provider, email('perm550-dave@example.test'))).toEqual({
      status: 'permanent',
      reason: expect.stringContaining('550 5.1.1') as string,
      bounce: 'hard',
    });
    expect(await send(provider, email('full552-erin@example.test'))).toMatchObject({
      status: 'permanent',
      bounce: 'soft',
    });
    expect(await send(provider, email('policy554-frank@example.test'))).toMatchObject({
      status: 'permanent',
      reason: expect.stringContaining('5.7.1') as string,
      bounce: null,
    });
  });

  it('answers transient when the connection drops mid-message, and sends it on the next try', async () => {
    const message = email('drop-grace@example.test');
    expect(await send(provider, message)).toMatchObject({ status: 'transient' });
    expect(await send(provider, message)).toMatchObject({ status: 'accepted' });
    expect(sink.received().filter((m) => m.envelope.to.includes('drop-grace@example.test'))).toHaveLength(1);
  });

  it('answers transient when the server is slower than the socket timeout', async () => {
    const result = await send(provider, email('slow-heidi@example.test'));
    expect(result).toMatchObject({
      status: 'transient',
      reason: expect.stringContaining('ETIMEDOUT') as string,
    });
  });

  it('answers transient when nothing listens or the server never greets', async () => {
    const refused = createSmtpProvider({ url: `smtp://127.0.0.1:${await freePort()}` });
    expect(await send(refused, email('ivan@example.test'))).toMatchObject({
      status: 'transient',
      reason: expect.stringContaining('ECONNREFUSED') as string,
    });
    await refused.close();

    const silent = net.createServer(() => undefined);
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const mute = createSmtpProvider({
      url: `smtp://127.0.0.1:${(silent.address() as AddressInfo).port}`,
      greetingTimeoutMs: 300,
    });
    expect(await send(mute, email('judy@example.test'))).toMatchObject({
      status: 'transient',
      reason: expect.stringMatching(/greeting/i) as string,
    });
    await mute.close();
    silent.close();
  });

  it('sends a few hundred messages over the pool, each with its own Message-ID', async () => {
    const pooled = createSmtpProvider({ url: sink.url, maxConnections: 4, maxMessages: 50 });
    const before = sink.received().length;
    const messages = Array.from({ length: 300 }, (_, i) => email(`reader${i}@example.test`));
    const results = await Promise.all(messages.map((message) => send(pooled, message)));
    await pooled.close();
    expect(results.every((result) => result.status === 'accepted')).toBe(true);
    const ids = new Set(
      sink
        .received()
        .slice(before)
        .map((m) => m.messageId),
    );
    expect(ids.size).toBe(300);
    for (const message of messages) expect(ids.has(`<${message.messageId}@baton.example>`)).toBe(true);
  });

  it('refuses a recipient it cannot write as a hard bounce, a bad sender without a bounce, sending neither', async () => {
    const before = sink.received().length;
    expect(await send(provider, email('Jöhn <jöhn@example.test>'))).toEqual({
      status: 'permanent',
      reason: expect.stringMatching(/jöhn@example\.test.*non-ASCII/) as string,
      bounce: 'hard',
    });
    expect(await send(provider, { ...email('ada@example.test'), from: 'news@baton example' })).toMatchObject({
      status: 'permanent',
      reason: expect.stringContaining('From address') as string,
      bounce: null,
    });
    expect(sink.received()).toHaveLength(before);
  });

  it('signs with DKIM when configured: the signature verifies, and fails once the message is changed', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    const signed = createSmtpProvider({
      url: sink.url,
      dkim: { domain: 'baton.example', selector: 'baton2026', privateKey },
    });
    const message = email('dkim-reader@example.test');
    expect((await send(signed, message)).status).toBe('accepted');
    await signed.close();
    const raw =
      sink.received().find((m) => m.messageId === `<${message.messageId}@baton.example>`)?.raw ?? '';
    expect(raw).toMatch(/^DKIM-Signature: v=1; a=rsa-sha256; c=relaxed\/relaxed; d=baton\.example;/);

    const record = `v=DKIM1; k=rsa; p=${publicKey.export({ type: 'spki', format: 'der' }).toString('base64')}`;
    const resolver = (name: string, type: string) => {
      if (name === 'baton2026._domainkey.baton.example' && type === 'TXT') return Promise.resolve([[record]]);
      return Promise.reject(Object.assign(new Error(`no ${type} record for ${name}`), { code: 'ENOTFOUND' }));
    };
    const verdict = async (source: string) =>
      (await dkimVerify(source, { resolver, strict: true })).results.map((result) => result.status.result);

    expect(await verdict(raw)).toEqual(['pass']);
    const body = raw.indexOf('\r\n\r\n');
    expect(await verdict(raw.slice(0, body) + raw.slice(body).replace('Hello', 'Hullo'))).toEqual(['fail']);
    expect(await verdict(raw.replace(`Subject: ${message.subject}`, 'Subject: Changed'))).toEqual(['fail']);
  });

  it('refuses a malformed SMTP_URL without repeating it', () => {
    expect(() => createSmtpProvider({ url: 'http://user:secret@host' })).toThrow(/smtp:\/\//);
    expect(() => createSmtpProvider({ url: 'smtp://user:secret@' })).toThrow(/^(?!.*secret)/);
  });
});
