import { generateKeyPairSync, randomUUID } from 'node:crypto';
import net, { type AddressInfo } from 'node:net';
import { buffer } from 'node:stream/consumers';
// The package's main entry needs Node 22 (it loads undici 8 for BIMI); DKIM verification alone does not.
import { dkimVerify } from 'mailauth/lib/dkim/verify.js';
import { SMTPServer } from 'smtp-server';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
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
    // The ledger id rides in the envelope too, for bounce reports that return no headers.
    expect(got?.dsn).toMatchObject({ envid: message.messageId, ret: 'HDRS' });
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

  it('sends from the bounce address in the envelope when one is set, the From header unchanged', async () => {
    const bouncing = createSmtpProvider({ url: sink.url, bounceAddress: 'bounces@mail.baton.example' });
    const message = email('eve@example.test');
    try {
      expect((await send(bouncing, message)).status).toBe('accepted');
    } finally {
      await bouncing.close();
    }
    const got = sink.received().find((m) => m.messageId === `<${message.messageId}@baton.example>`);
    expect(got?.envelope.from).toBe('bounces@mail.baton.example');
    expect(got?.raw).toMatch(/^From: .*news@baton\.example/m);
    expect(() => loadConfig({ SMTP_BOUNCE_ADDRESS: 'Bounces <b@x.example>' }, '/tmp')).toThrow(
      'SMTP_BOUNCE_ADDRESS must be a bare email address such as bounces@example.com, not "Bounces <b@x.example>".',
    );
    expect(loadConfig({ SMTP_BOUNCE_ADDRESS: 'b@x.example' }, '/tmp').providers.smtpBounceAddress).toBe(
      'b@x.example',
    );
  });

  it('refuses a malformed SMTP_URL without repeating it', () => {
    expect(() => createSmtpProvider({ url: 'http://user:secret@host' })).toThrow(/smtp:\/\//);
    expect(() => createSmtpProvider({ url: 'smtp://user:secret@' })).toThrow(/^(?!.*secret)/);
  });

  it('opens connections as sends need them, never more than maxConnections, each for maxMessages', async () => {
    const counted = await startSmtpSink();
    const pooled = createSmtpProvider({ url: counted.url, maxConnections: 3, maxMessages: 4 });
    const messages = Array.from({ length: 20 }, (_, i) => email(`pooled${i}@example.test`));
    const results = await Promise.all(messages.map((message) => send(pooled, message)));
    await pooled.close();
    await counted.close();
    expect(results.every((result) => result.status === 'accepted')).toBe(true);
    const { opened, maxOpen } = counted.connections();
    expect(maxOpen).toBeLessThanOrEqual(3);
    expect(opened).toBeGreaterThanOrEqual(5);
    const deliveries = counted.deliveries();
    expect(deliveries.size).toBe(20);
    for (const message of messages) expect(deliveries.get(message.to)).toBe(1);
  });

  it('sends on a fresh connection after one was dropped', async () => {
    const counted = await startSmtpSink();
    const single = createSmtpProvider({ url: counted.url, maxConnections: 1 });
    expect((await send(single, email('before-drop@example.test'))).status).toBe('accepted');
    expect(await send(single, email('drop-ivy@example.test'))).toMatchObject({ status: 'transient' });
    const after = await Promise.all(
      ['after-drop1@example.test', 'after-drop2@example.test'].map((to) => send(single, email(to))),
    );
    await single.close();
    await counted.close();
    expect(after.map((result) => result.status)).toEqual(['accepted', 'accepted']);
    expect(counted.connections().opened).toBe(2);
  });

  it('resends on a new connection a message whose reused connection the server dropped before DATA', async () => {
    const commands = new Map<string, number>();
    const accepted: string[] = [];
    let dropped = false;
    const server: SMTPServer = new SMTPServer({
      logger: false,
      disabledCommands: ['STARTTLS', 'AUTH'],
      closeTimeout: 500,
      onMailFrom(_address, session, callback) {
        const count = (commands.get(session.id) ?? 0) + 1;
        commands.set(session.id, count);
        // The second message of the first session finds it gone, as when a server ends an idle session
        // just as a message is given to it.
        if (count === 2 && !dropped) {
          dropped = true;
          const connection = [...server.connections].find((c: { id: string }) => c.id === session.id) as
            { _socket: net.Socket } | undefined;
          connection?._socket.destroy();
          return;
        }
        callback();
      },
      onData(stream, session, callback) {
        buffer(stream).then(
          () => {
            accepted.push(...session.envelope.rcptTo.map((recipient) => recipient.address));
            callback(null, `queued as Q${accepted.length}`);
          },
          (error: Error) => callback(error),
        );
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    const single = createSmtpProvider({ url: `smtp://127.0.0.1:${port}`, maxConnections: 1 });
    expect(await send(single, email('first@example.test'))).toMatchObject({ status: 'accepted' });
    expect(await send(single, email('second@example.test'))).toEqual({
      status: 'accepted',
      providerMessageId: 'Q2',
    });
    await single.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(dropped).toBe(true);
    expect(commands.size).toBe(2);
    expect(accepted).toEqual(['first@example.test', 'second@example.test']);
  });

  it('logs in to a server that requires AUTH, and answers transient when the password is refused', async () => {
    const users: unknown[] = [];
    const server = new SMTPServer({
      logger: false,
      disabledCommands: ['STARTTLS'],
      authMethods: ['PLAIN', 'LOGIN'],
      allowInsecureAuth: true,
      closeTimeout: 500,
      onAuth(auth, _session, callback) {
        if (auth.username === 'baton' && auth.password === 's3cret:p@ss')
          return callback(null, { user: 'baton' });
        callback(Object.assign(new Error('5.7.8 Authentication credentials invalid'), { responseCode: 535 }));
      },
      onData(stream, session, callback) {
        users.push(session.user);
        buffer(stream).then(
          () => callback(null, 'queued as AUTHED1'),
          (error: Error) => callback(error),
        );
      },
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const { port } = server.server.address() as AddressInfo;
    const password = encodeURIComponent('s3cret:p@ss');

    const authed = createSmtpProvider({ url: `smtp://baton:${password}@127.0.0.1:${port}` });
    expect(await send(authed, email('ada@example.test'))).toEqual({
      status: 'accepted',
      providerMessageId: 'AUTHED1',
    });
    await authed.close();
    expect(users).toEqual(['baton']);

    const refused = createSmtpProvider({ url: `smtp://baton:wrong@127.0.0.1:${port}` });
    expect(await send(refused, email('bob@example.test'))).toMatchObject({
      status: 'transient',
      reason: expect.stringMatching(/^SMTP authentication failed: 535/) as string,
    });
    await refused.close();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    expect(users).toHaveLength(1);
  });

  it('answers transient for the sends still waiting for a connection when closed', async () => {
    const single = createSmtpProvider({ url: sink.url, maxConnections: 1 });
    const inFlight = send(single, email('slow-judy@example.test'));
    const waiting = [
      send(single, email('waiting1@example.test')),
      send(single, email('waiting2@example.test')),
    ];
    await new Promise((resolve) => setTimeout(resolve, 100));
    await single.close();
    for (const result of await Promise.all(waiting)) {
      expect(result).toMatchObject({
        status: 'transient',
        reason: expect.stringContaining('closed') as string,
      });
    }
    expect(await send(single, email('late@example.test'))).toMatchObject({ status: 'transient' });
    // The message already handed to the server is answered, not abandoned.
    expect((await inFlight).status).toBe('accepted');
    expect(sink.attempts('waiting1@example.test')).toBe(0);
  });
});
