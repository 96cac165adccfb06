import { generateKeyPairSync } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import { inspect } from 'node:util';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevOutbox, type DevOutbox } from '../../src/channels/outbox/smtp-server.ts';
import { createProviders, describeProviders } from '../../src/channels/providers/registry.ts';
import { createSimulator } from '../../src/channels/providers/simulator.ts';
import { loadConfig } from '../../src/config.ts';
import type { OutboxEntry, OutboxMessage } from '../../src/channels/outbox/store.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { startApi, type ApiCall } from '../helpers/http.ts';

type Page = { total: number; messages: OutboxEntry[] };

describeEachDatabase('dev outbox and simulators', (t) => {
  let outbox: DevOutbox;
  let api: { call: ApiCall; close: () => Promise<void> };
  beforeAll(async () => {
    outbox = await startDevOutbox({ database: t.database, port: 0 });
    api = await startApi(t);
  });
  afterAll(async () => {
    await api.close();
    await outbox.close();
  });

  it('keeps what an SMTP client sends, one row per recipient, readable through the API', async () => {
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: outbox.port, secure: false });
    await transport.sendMail({
      from: 'Baton <news@baton.example>',
      to: ['ada@example.test', 'bob@example.test'],
      subject: 'Spring sale — 20%',
      html: '<h1>Spring</h1><p>-20% until Sunday</p>',
      text: 'Spring: -20% until Sunday',
      messageId: '<3f2a@baton.example>',
      headers: { 'List-Unsubscribe': '<https://baton.example/u/abc>' },
    });
    transport.close();

    const page = await api.call<Page>('GET', '/api/outbox?channel=email');
    expect(page.status).toBe(200);
    expect(page.body.total).toBe(2);
    expect(page.body.messages.map((m) => m.recipient).sort()).toEqual([
      'ada@example.test',
      'bob@example.test',
    ]);
    const entry = page.body.messages[0];
    expect(entry).toMatchObject({
      channel: 'email',
      messageId: '3f2a@baton.example',
      subject: 'Spring sale — 20%',
    });

    const one = await api.call<OutboxMessage>('GET', `/api/outbox/${entry?.id}`);
    expect(one.body.html).toBe('<h1>Spring</h1><p>-20% until Sunday</p>');
    expect(one.body.text?.trim()).toBe('Spring: -20% until Sunday');
    expect(one.body.headers['List-Unsubscribe']).toBe('<https://baton.example/u/abc>');
    expect(one.body.sender).toBe('"Baton" <news@baton.example>');

    const raw = await api.call('GET', `/api/outbox/${entry?.id}/raw`);
    expect(raw.headers.get('content-type')).toMatch(/^message\/rfc822/);
    expect(raw.text).toMatch(/^Message-ID: <3f2a@baton\.example>\r?$/m);

    const searched = await api.call<Page>('GET', '/api/outbox?search=BOB%40EXAMPLE');
    expect(searched.body.messages.map((m) => m.recipient)).toEqual(['bob@example.test']);
    expect((await api.call<Page>('GET', '/api/outbox?search=100%25')).body.total).toBe(0);
    expect((await api.call<Page>('GET', '/api/outbox?limit=1&offset=1')).body.messages).toHaveLength(1);
    expect((await api.call('GET', '/api/outbox?channel=fax')).status).toBe(400);
    expect((await api.call('GET', '/api/outbox/nope')).status).toBe(404);
  });

  it('refuses to start on a port already taken (baton start then warns instead of crashing)', async () => {
    await expect(startDevOutbox({ database: t.database, port: outbox.port })).rejects.toMatchObject({
      code: 'EADDRINUSE',
    });
  });

  it('sends through the embedded configuration: the SMTP provider to the dev outbox', async () => {
    const providers = createProviders(
      { ...loadConfig({}, t.config.dataDir), databaseUrl: undefined, outboxPort: outbox.port },
      t.database,
    );
    const smtp = providers.get('email');
    const result = await smtp.send(
      {
        messageId: 'a1b2c3d4-0000-4000-8000-000000000001',
        from: 'news@baton.example',
        to: 'carol@example.test',
        subject: 'Through the provider',
        html: '<p>hi</p>',
        text: 'hi',
        headers: { 'Message-ID': '<a1b2c3d4-0000-4000-8000-000000000001@baton.example>' },
      },
      { idempotencyKey: 'a1b2c3d4-0000-4000-8000-000000000001' },
    );
    await providers.close();
    expect(result.status).toBe('accepted');
    const page = await api.call<Page>('GET', '/api/outbox?search=carol');
    expect(page.body.messages[0]?.messageId).toBe('a1b2c3d4-0000-4000-8000-000000000001@baton.example');
  });

  it('simulators record each message once per idempotency key', async () => {
    const sms = createSimulator('sms', t.database);
    const message = {
      messageId: 'm-sms-1',
      to: '+33612345678',
      text: 'Hello',
      encoding: 'GSM-7' as const,
      segments: 1,
    };
    const first = await sms.send(message, { idempotencyKey: 'key-sms-1' });
    const again = await sms.send(message, { idempotencyKey: 'key-sms-1' });
    expect(sms.idempotent).toBe(true);
    expect(first).toEqual({
      status: 'accepted',
      providerMessageId: expect.stringMatching(/^sim-/) as string,
    });
    expect(again).toEqual(first);

    const push = createSimulator('push', t.database);
    await push.send(
      {
        messageId: 'm-push-1',
        token: 'tok',
        title: 'Hi',
        body: 'There',
        data: { a: '1' },
        deepLink: 'app://x',
      },
      { idempotencyKey: 'key-sms-1' },
    );
    const page = await api.call<Page>('GET', '/api/outbox?channel=sms');
    expect(page.body.total).toBe(1);
    expect(page.body.messages[0]).toMatchObject({
      recipient: '+33612345678',
      providerId: first.status === 'accepted' ? first.providerMessageId : '',
    });
    const pushed = await api.call<Page>('GET', '/api/outbox?channel=push');
    const detail = await api.call<OutboxMessage>('GET', `/api/outbox/${pushed.body.messages[0]?.id}`);
    expect(detail.body).toMatchObject({
      subject: 'Hi',
      text: 'There',
      headers: { data: { a: '1' }, deepLink: 'app://x' },
    });
    expect((await api.call('GET', `/api/outbox/${detail.body.id}/raw`)).status).toBe(404);
  });

  it('picks providers by name, and says which exist when the name is unknown', async () => {
    const providers = createProviders(
      loadConfig({ DATABASE_URL: 'postgres://x@localhost/baton' }, t.config.dataDir),
      t.database,
    );
    expect(() => providers.get('email')).toThrow(/SMTP_URL/);
    expect(providers.get('email', 'simulator').name).toBe('simulator');
    expect(providers.get('sms')).toBe(providers.get('sms', 'simulator'));
    expect(() => providers.get('sms', 'twilio')).toThrow(
      /No sms provider "twilio": the configured ones are simulator/,
    );
    await providers.close();
  });

  it('clears the outbox, one channel or all', async () => {
    const cleared = await api.call<{ deleted: number }>('DELETE', '/api/outbox?channel=push');
    expect(cleared.body.deleted).toBe(1);
    expect((await api.call<Page>('GET', '/api/outbox?channel=push')).body.total).toBe(0);
    await api.call('DELETE', '/api/outbox');
    expect((await api.call<Page>('GET', '/api/outbox')).body.total).toBe(0);
  });
});

describe('provider registry', () => {
  const config = (env: Record<string, string>, cwd = '/tmp') => loadConfig(env, cwd);

  it('defaults to the dev outbox in embedded mode and to the simulators for SMS and push', () => {
    const described = describeProviders(config({}));
    expect(described.filter((d) => d.default).map((d) => `${d.channel}:${d.name}:${d.kind}`)).toEqual([
      'email:smtp:dev-outbox',
      'sms:simulator:simulator',
      'push:simulator:simulator',
    ]);
    expect(described.find((d) => d.kind === 'dev-outbox')?.settings.server).toBe('smtp://127.0.0.1:2525');
  });

  it('describes providers without their secrets', () => {
    const described = describeProviders(
      config({
        SMTP_URL: 'smtp://mailer:hunter2@mail.example:587',
        SMS_PROVIDER: 'twilio',
        SMS_ACCOUNT: 'AC0123456789abcdef',
        SMS_TOKEN: 'twilio-secret-token',
        SMS_FROM: '+15005550006',
        PUSH_PROVIDER: 'web-push',
        VAPID_PUBLIC_KEY: 'public-key',
        VAPID_PRIVATE_KEY: 'vapid-private-secret',
        VAPID_SUBJECT: 'mailto:ops@baton.example',
      }),
    );
    const text = JSON.stringify(described);
    for (const secret of ['hunter2', 'twilio-secret-token', 'vapid-private-secret', 'AC0123456789abcdef']) {
      expect(text).not.toContain(secret);
    }
    expect(described.find((d) => d.channel === 'email' && d.default)?.settings.server).toBe(
      'smtp://mail.example:587 (with credentials)',
    );
  });

  it('names the missing or wrong setting', () => {
    expect(() => describeProviders(config({ SMS_PROVIDER: 'twilio', SMS_ACCOUNT: 'AC1' }))).toThrow(
      /SMS_TOKEN, SMS_FROM/,
    );
    expect(() => describeProviders(config({ PUSH_PROVIDER: 'apns', APNS_KEY_FILE: 'k.p8' }))).toThrow(
      /APNS_KEY_ID, APNS_TEAM_ID, APNS_TOPIC/,
    );
    expect(() =>
      describeProviders(config({ PUSH_PROVIDER: 'fcm', FCM_SERVICE_ACCOUNT: 'missing.json' })),
    ).toThrow(/FCM_SERVICE_ACCOUNT .*no such file/);
    expect(() => describeProviders(config({ SMS_PROVIDER: 'carrier-pigeon' }))).toThrow(
      /SMS_PROVIDER must be one of/,
    );
    const server = describeProviders(config({ DATABASE_URL: 'postgres://x@localhost/baton' }));
    expect(server.find((d) => d.channel === 'email' && d.default)?.problem).toMatch(/SMTP_URL/);
  });

  describe('DKIM settings', () => {
    const pem = generateKeyPairSync('rsa', { modulusLength: 2048 })
      .privateKey.export({ type: 'pkcs8', format: 'pem' })
      .toString();
    // A piece of the key's base64 body: no part of it may show anywhere.
    const keyMaterial = pem.split('\n')[5] ?? '';
    const signing = { SMTP_DKIM_DOMAIN: 'baton.example', SMTP_DKIM_SELECTOR: 'baton2026' };

    it('takes the key as text, with its line breaks written \\n, or from a file', async () => {
      const inline = config({ ...signing, SMTP_DKIM_PRIVATE_KEY: pem.replace(/\n/g, '\\n') }).providers
        .smtpDkim;
      expect(inline).toMatchObject({ domain: 'baton.example', selector: 'baton2026' });
      expect(inline?.privateKey.asymmetricKeyType).toBe('rsa');

      const dir = (await import('node:fs')).mkdtempSync(
        path.join((await import('node:os')).tmpdir(), 'baton-dkim-'),
      );
      writeFileSync(path.join(dir, 'dkim.pem'), pem);
      const fromFile = config({ ...signing, SMTP_DKIM_PRIVATE_KEY_FILE: 'dkim.pem' }, dir).providers.smtpDkim;
      expect(fromFile?.privateKey.equals(inline!.privateKey)).toBe(true);
      expect(() => config({ ...signing, SMTP_DKIM_PRIVATE_KEY_FILE: 'missing.pem' }, dir)).toThrow(
        /SMTP_DKIM_PRIVATE_KEY_FILE .*missing\.pem.*no such file/,
      );
      expect(config({}).providers.smtpDkim).toBeUndefined();
    });

    it('wants all three settings or none, and names what is missing', () => {
      expect(() => config({ SMTP_DKIM_DOMAIN: 'baton.example' })).toThrow(
        /SMTP_DKIM_SELECTOR, SMTP_DKIM_PRIVATE_KEY \(or SMTP_DKIM_PRIVATE_KEY_FILE\) are not set/,
      );
      expect(() => config(signing)).toThrow(
        /SMTP_DKIM_PRIVATE_KEY \(or SMTP_DKIM_PRIVATE_KEY_FILE\) is not set/,
      );
      expect(() => config({ SMTP_DKIM_SELECTOR: 'baton2026', SMTP_DKIM_PRIVATE_KEY: pem })).toThrow(
        /SMTP_DKIM_DOMAIN is not set/,
      );
      expect(() =>
        config({ ...signing, SMTP_DKIM_PRIVATE_KEY: pem, SMTP_DKIM_PRIVATE_KEY_FILE: 'dkim.pem' }),
      ).toThrow(/both set: keep one/);
      expect(() =>
        config({ ...signing, SMTP_DKIM_SELECTOR: 'bad selector', SMTP_DKIM_PRIVATE_KEY: pem }),
      ).toThrow(/SMTP_DKIM_SELECTOR must be/);
    });

    it('refuses a key that cannot sign at start, without quoting it', () => {
      const truncated = pem.replace(`${keyMaterial}\n`, '');
      const damaged = pem.replace(keyMaterial, keyMaterial.split('').reverse().join(''));
      const errorOf = (key: string) => {
        try {
          config({ ...signing, SMTP_DKIM_PRIVATE_KEY: key });
        } catch (error) {
          return error as Error;
        }
        throw new Error('the key was accepted');
      };
      for (const key of [truncated, 'not a key', pem.slice(0, 200)]) {
        const error = errorOf(key);
        expect(error.message).toMatch(
          /SMTP_DKIM_PRIVATE_KEY is not a readable private key: give an unencrypted PEM/,
        );
        expect(error.message).not.toContain(keyMaterial.slice(0, 16));
        expect(error.cause).toBeUndefined();
      }
      expect(errorOf(damaged).message).toMatch(/SMTP_DKIM_PRIVATE_KEY is damaged/);
      const ed25519 = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
      expect(errorOf(ed25519.toString()).message).toMatch(/is an ed25519 key; .* needs an RSA key/);
      const small = generateKeyPairSync('rsa', { modulusLength: 512 }).privateKey.export({
        type: 'pkcs8',
        format: 'pem',
      });
      expect(errorOf(small.toString()).message).toMatch(/512-bit RSA key; .*Use 2048/);
    });

    it('shows where the public key is published, never the private key', () => {
      const loaded = config({
        SMTP_URL: 'smtp://mail.example:587',
        ...signing,
        SMTP_DKIM_PRIVATE_KEY: pem,
      });
      const described = describeProviders(loaded);
      expect(described.find((d) => d.channel === 'email' && d.default)?.settings.dkim).toBe(
        'baton2026._domainkey.baton.example',
      );
      const embedded = describeProviders(config({ ...signing, SMTP_DKIM_PRIVATE_KEY: pem }));
      expect(embedded.find((d) => d.kind === 'dev-outbox')?.settings.dkim).toBe(
        'baton2026._domainkey.baton.example',
      );
      for (const shown of [
        JSON.stringify(described),
        JSON.stringify(loaded),
        inspect(loaded, { depth: 10 }),
      ]) {
        expect(shown).not.toContain(keyMaterial);
        expect(shown).not.toContain('PRIVATE KEY');
      }
    });
  });

  it('checks a service account file', async () => {
    const dir = (await import('node:fs')).mkdtempSync(
      path.join((await import('node:os')).tmpdir(), 'baton-fcm-'),
    );
    writeFileSync(path.join(dir, 'sa.json'), JSON.stringify({ project_id: 'p', client_email: 'e' }));
    expect(() =>
      describeProviders(config({ PUSH_PROVIDER: 'fcm', FCM_SERVICE_ACCOUNT: 'sa.json' }, dir)),
    ).toThrow(/lacks private_key/);
  });
});
