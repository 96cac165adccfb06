import { createHash, createHmac, randomUUID } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startDevOutbox } from '../../src/channels/outbox/smtp-server.ts';
import { rebuildRollups } from '../../src/reporting/rollups.ts';
import { baton, json, settingsOf } from '../helpers/cli.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/databases.ts';
import { deliveryConfig } from '../helpers/delivery.ts';
import { startApi, type ApiCall } from '../helpers/http.ts';
import { insertLedgerRow } from '../helpers/ledger-rows.ts';
import { arfEmail, dsnEmail } from '../helpers/mail-reports.ts';

/**
 * Provider feedback over real HTTP, SMTP and the CLI, on both databases: what each report changes in the
 * ledger, the events, the report roll-ups and the quarantine; replays that change nothing; requests that
 * fail their check (no secret, a forged or tampered signature, a stale timestamp) and malformed bodies,
 * which record nothing.
 */
const SECRET = 'w'.repeat(32);
const TWILIO_TOKEN = 'twilio-token-123';
const VONAGE_SECRET = 'vonage-signing-secret';
const PUBLIC = 'https://t.example';

type Outcome = {
  recorded: number;
  duplicates: number;
  unknown: number;
  early: number;
  ignored: Record<string, number>;
};

function insertMessage(
  t: TestDatabase,
  fields: { channel?: 'email' | 'sms'; address?: string; status?: string } = {},
): Promise<string> {
  return insertLedgerRow(t, {
    ...fields,
    queued_at: new Date(Date.now() - 120_000).toISOString(),
    sent_at: fields.status === 'sending' ? null : new Date(Date.now() - 60_000).toISOString(),
  });
}

async function ledger(t: TestDatabase, id: string) {
  return t.database.db
    .selectFrom('messages')
    .select(['status', 'bounce', 'reason', 'delivered_at'])
    .where('id', '=', id)
    .executeTakeFirstOrThrow();
}

async function eventsOf(t: TestDatabase, id: string) {
  const rows = await t.database.db
    .selectFrom('events')
    .select(['type', 'bounce', 'reason', 'human', 'recipient', 'campaign_id'])
    .where('message_id', '=', id)
    .execute();
  return rows.map((row) => ({ ...row, human: Boolean(row.human) }));
}

async function quarantined(t: TestDatabase, channel: string, address: string) {
  return t.database.db
    .selectFrom('quarantine')
    .select(['reason'])
    .where('channel', '=', channel)
    .where('address', '=', address)
    .executeTakeFirst();
}

/** The report roll-ups as written, and as a recount from the events makes them. */
async function rollupsAgainstRecount(t: TestDatabase) {
  const read = () =>
    t.database.db
      .selectFrom('report_minutes')
      .select(['type', 'human', 'minute', 'events', 'uniques', 'first_any'])
      .where('campaign_id', '=', 'spring')
      .orderBy('type')
      .orderBy('human')
      .orderBy('minute')
      .execute()
      .then((rows) =>
        rows.map((r) => ({
          ...r,
          events: Number(r.events),
          uniques: Number(r.uniques),
          first_any: Number(r.first_any),
        })),
      );
  const written = await read();
  await rebuildRollups(t.database, 'spring');
  return { written, recounted: await read() };
}

const asEmail = (body: string, headers: Record<string, string> = {}) => ({
  body,
  headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${SECRET}`, ...headers },
});

describeEachDatabase('provider feedback', (t) => {
  let api: { call: ApiCall; close: () => Promise<void> };
  beforeAll(async () => {
    api = await startApi(
      t,
      deliveryConfig(t, 'smtp://127.0.0.1:9', {
        BATON_PUBLIC_URL: PUBLIC,
        BATON_WEBHOOK_SECRET: SECRET,
        SMS_PROVIDER: 'twilio',
        SMS_ACCOUNT: 'AC1',
        SMS_TOKEN: TWILIO_TOKEN,
        SMS_FROM: '+15550000',
      }),
    );
  });
  afterAll(() => api.close());

  describe('email reports posted to /webhooks/smtp', () => {
    it('records a hard bounce in the ledger, the events and the quarantine, once however often it is posted', async () => {
      const id = await insertMessage(t, { address: 'Ghost@Example.net' });
      const report = dsnEmail({
        originalMessageId: `<${id}@shop.example.test>`,
        recipient: 'ghost@example.net',
        action: 'failed',
        status: '5.1.1',
        diagnostic: '550 5.1.1 user unknown',
      });
      const first = await api.call<Outcome>('POST', '/webhooks/smtp', asEmail(report));
      expect(first.status).toBe(200);
      expect(first.body).toEqual({ recorded: 1, duplicates: 0, unknown: 0, early: 0, ignored: {} });
      const again = await api.call<Outcome>('POST', '/webhooks/smtp', asEmail(report));
      expect(again.body).toMatchObject({ recorded: 0, duplicates: 1 });

      expect(await ledger(t, id)).toEqual({
        status: 'bounced',
        bounce: 'hard',
        reason: '550 5.1.1 user unknown',
        delivered_at: null,
      });
      expect(await eventsOf(t, id)).toEqual([
        {
          type: 'bounce',
          bounce: 'hard',
          reason: '550 5.1.1 user unknown',
          human: true,
          recipient: '7',
          campaign_id: 'spring',
        },
      ]);
      expect(await quarantined(t, 'email', 'ghost@example.net')).toEqual({
        reason: '550 5.1.1 user unknown',
      });
      const { written, recounted } = await rollupsAgainstRecount(t);
      expect(written).toEqual(recounted);
      expect(
        written.filter((r) => r.type === 'bounce').reduce((n, r) => n + r.events, 0),
      ).toBeGreaterThanOrEqual(1);
    });

    it('records a soft bounce without quarantining, and a receipt as delivered', async () => {
      const soft = await insertMessage(t, { address: 'full@example.net' });
      const delivered = await insertMessage(t);
      for (const [id, action, status] of [
        [soft, 'failed', '5.2.2'],
        [delivered, 'delivered', '2.0.0'],
      ] as const) {
        const response = await api.call<Outcome>(
          'POST',
          '/webhooks/smtp',
          asEmail(dsnEmail({ envelopeId: id, recipient: 'x@example.net', action, status })),
        );
        expect(response.body.recorded).toBe(1);
      }
      expect(await ledger(t, soft)).toMatchObject({
        status: 'bounced',
        bounce: 'soft',
        reason: 'status 5.2.2',
      });
      expect(await quarantined(t, 'email', 'full@example.net')).toBeUndefined();
      const receipt = await ledger(t, delivered);
      expect(receipt.status).toBe('delivered');
      expect(receipt.delivered_at).not.toBeNull();
      expect((await eventsOf(t, delivered)).map((e) => e.type)).toEqual(['delivered']);
    });

    it('records a complaint and quarantines the address; not-spam reports change nothing', async () => {
      const id = await insertMessage(t, { address: 'angry@isp.example' });
      const complaint = arfEmail({
        originalMessageId: `<${id}@shop.example.test>`,
        feedbackType: 'abuse',
        recipient: 'angry@isp.example',
      });
      expect((await api.call<Outcome>('POST', '/webhooks/smtp', asEmail(complaint))).body.recorded).toBe(1);
      expect(await quarantined(t, 'email', 'angry@isp.example')).toEqual({ reason: 'complaint (abuse)' });
      expect(await ledger(t, id)).toMatchObject({ status: 'sent' });
      expect((await eventsOf(t, id)).map((e) => [e.type, e.human])).toEqual([['complaint', true]]);

      const other = await insertMessage(t, { address: 'fine@isp.example' });
      const notSpam = arfEmail({
        originalMessageId: `<${other}@x>`,
        feedbackType: 'not-spam',
        recipient: 'fine@isp.example',
      });
      expect((await api.call<Outcome>('POST', '/webhooks/smtp', asEmail(notSpam))).body).toMatchObject({
        recorded: 0,
        ignored: { 'not-spam': 1 },
      });
      expect(await eventsOf(t, other)).toEqual([]);
    });

    it('counts reports on unknown messages, and answers 503 for a message still being sent', async () => {
      const unknown = dsnEmail({
        envelopeId: randomUUID(),
        recipient: 'a@b.example',
        action: 'failed',
        status: '5.1.1',
      });
      expect((await api.call<Outcome>('POST', '/webhooks/smtp', asEmail(unknown))).body).toMatchObject({
        unknown: 1,
        recorded: 0,
      });
      const sending = await insertMessage(t, { status: 'sending' });
      const early = await api.call<Outcome>(
        'POST',
        '/webhooks/smtp',
        asEmail(
          dsnEmail({ envelopeId: sending, recipient: 'a@b.example', action: 'failed', status: '5.1.1' }),
        ),
      );
      expect(early.status).toBe(503);
      expect(early.headers.get('retry-after')).toBe('30');
      expect(early.body).toMatchObject({ early: 1, recorded: 0 });
      expect(await eventsOf(t, sending)).toEqual([]);
    });

    it('refuses posts without the secret, and malformed bodies, recording nothing', async () => {
      const id = await insertMessage(t);
      const report = dsnEmail({
        envelopeId: id,
        recipient: 'a@b.example',
        action: 'failed',
        status: '5.1.1',
      });
      const refused = [
        await api.call('POST', '/webhooks/smtp', asEmail(report, { authorization: '' })),
        await api.call('POST', '/webhooks/smtp', asEmail(report, { authorization: `Bearer ${SECRET}x` })),
        await api.call('POST', '/webhooks/smtp', asEmail(report, { authorization: `Basic ${SECRET}` })),
      ];
      expect(refused.map((r) => r.status)).toEqual([401, 401, 401]);
      const malformed = [
        await api.call<{ error: { message: string } }>(
          'POST',
          '/webhooks/smtp',
          asEmail('From: a@b\r\n\r\nhello'),
        ),
        await api.call<{ error: { message: string } }>('POST', '/webhooks/smtp', asEmail('')),
        await api.call<{ error: { message: string } }>(
          'POST',
          '/webhooks/smtp',
          asEmail(report.replace('Content-Type: message/delivery-status', 'Content-Type: text/plain')),
        ),
        await api.call<{ error: { message: string } }>('POST', '/webhooks/smtp', {
          body: '{"not": "json"',
          headers: { 'content-type': 'application/json', authorization: `Bearer ${SECRET}` },
        }),
      ];
      expect(malformed.map((r) => r.status)).toEqual([400, 400, 400, 400]);
      expect(malformed[0]!.body.error.message).toMatch(/not a report/);
      expect(malformed[2]!.body.error.message).toMatch(/delivery-status/);
      expect(await eventsOf(t, id)).toEqual([]);
      expect(await ledger(t, id)).toMatchObject({ status: 'sent' });
    });
  });

  describe('Twilio status callbacks', () => {
    const sign = (url: string, fields: Record<string, string>) =>
      createHmac('sha1', TWILIO_TOKEN)
        .update(
          url +
            Object.keys(fields)
              .sort()
              .map((k) => k + fields[k])
              .join(''),
        )
        .digest('base64');
    const post = (id: string, fields: Record<string, string>, signature?: string) => {
      const url = `/webhooks/twilio?message=${id}`;
      return api.call<Outcome>('POST', url, {
        body: new URLSearchParams(fields).toString(),
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          'x-twilio-signature': signature ?? sign(PUBLIC + url, fields),
        },
      });
    };

    it('records receipts and undelivered messages; a dead number is quarantined in its normal form', async () => {
      const ok = await insertMessage(t, { channel: 'sms', address: '+1 555 0101' });
      const dead = await insertMessage(t, { channel: 'sms', address: '+1 (555) 0102' });
      const delivered = { MessageSid: 'SM1', MessageStatus: 'delivered', AccountSid: 'AC1', To: '+15550101' };
      expect((await post(ok, delivered)).body.recorded).toBe(1);
      expect((await post(ok, delivered)).body.duplicates).toBe(1);
      expect((await post(ok, { ...delivered, MessageStatus: 'sent' })).body.ignored).toEqual({ sent: 1 });
      const undelivered = {
        MessageSid: 'SM2',
        MessageStatus: 'undelivered',
        ErrorCode: '30005',
        To: '+15550102',
      };
      expect((await post(dead, undelivered)).status).toBe(200);
      expect(await ledger(t, ok)).toMatchObject({ status: 'delivered' });
      expect(await ledger(t, dead)).toMatchObject({
        status: 'bounced',
        bounce: 'hard',
        reason: 'Twilio undelivered: error 30005',
      });
      expect(await quarantined(t, 'sms', '+15550102')).toEqual({ reason: 'Twilio undelivered: error 30005' });
    });

    it('records callbacks arriving together in one group, each answered with its own outcome', async () => {
      const ids = await Promise.all(
        Array.from({ length: 10 }, (_, i) => insertMessage(t, { channel: 'sms', address: `+1555020${i}` })),
      );
      // Every receipt twice, all at once: one of each pair is a duplicate, whichever group it lands in.
      const answers = await Promise.all(
        [...ids, ...ids].map((id) => post(id, { MessageSid: `SM-${id}`, MessageStatus: 'delivered' })),
      );
      expect(answers.map((a) => a.status)).toEqual(answers.map(() => 200));
      const total = (key: 'recorded' | 'duplicates') => answers.reduce((n, a) => n + a.body[key], 0);
      expect([total('recorded'), total('duplicates')]).toEqual([10, 10]);
      for (const id of ids) {
        expect(await ledger(t, id)).toMatchObject({ status: 'delivered' });
        expect(await eventsOf(t, id)).toHaveLength(1);
      }
    });

    it('refuses forged, tampered and misaddressed callbacks', async () => {
      const id = await insertMessage(t, { channel: 'sms', address: '+15550199' });
      const fields = { MessageSid: 'SM3', MessageStatus: 'undelivered', ErrorCode: '30005' };
      const good = sign(`${PUBLIC}/webhooks/twilio?message=${id}`, fields);
      const answers = [
        await post(id, fields, 'AAAA' + good.slice(4)),
        await post(id, { ...fields, ErrorCode: '30006' }, good),
        // Signed for another message: the ledger id is part of what is signed.
        await post(id, fields, sign(`${PUBLIC}/webhooks/twilio?message=${randomUUID()}`, fields)),
        await api.call('POST', `/webhooks/twilio?message=${id}`, {
          body: new URLSearchParams(fields).toString(),
          headers: { 'content-type': 'application/x-www-form-urlencoded' },
        }),
      ];
      expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 403]);
      expect((await api.call('GET', `/webhooks/twilio?message=${id}`)).status).toBe(404);
      expect((await api.call('POST', '/webhooks/vonage', { json: {} })).status).toBe(404);
      expect(await eventsOf(t, id)).toEqual([]);
      expect(await quarantined(t, 'sms', '+15550199')).toBeUndefined();
    });
  });

  describe('Vonage delivery receipts', () => {
    let vonage: { call: ApiCall; close: () => Promise<void> };
    let unsigned: { call: ApiCall; close: () => Promise<void> };
    beforeAll(async () => {
      const settings = {
        BATON_PUBLIC_URL: PUBLIC,
        SMS_PROVIDER: 'vonage',
        SMS_ACCOUNT: 'key',
        SMS_TOKEN: 'secret',
        SMS_FROM: 'Shop',
      };
      vonage = await startApi(
        t,
        deliveryConfig(t, 'smtp://127.0.0.1:9', {
          ...settings,
          SMS_SIGNATURE_SECRET: VONAGE_SECRET,
          SMS_SIGNATURE_METHOD: 'sha256',
        }),
      );
      unsigned = await startApi(t, deliveryConfig(t, 'smtp://127.0.0.1:9', settings));
    });
    afterAll(async () => {
      await vonage.close();
      await unsigned.close();
    });

    const signed = (fields: Record<string, string>, at = Date.now()) => {
      const all = { ...fields, timestamp: String(Math.floor(at / 1000)), nonce: randomUUID() };
      const data = Object.keys(all)
        .sort()
        .map((k) => `&${k}=${all[k as keyof typeof all].replace(/[&=]/g, '_')}`)
        .join('');
      return { ...all, sig: createHmac('sha256', VONAGE_SECRET).update(data).digest('hex') };
    };

    it('records signed receipts posted as JSON or sent as a GET query', async () => {
      const a = await insertMessage(t, { channel: 'sms', address: '+447700900001' });
      const b = await insertMessage(t, { channel: 'sms', address: '+447700900002' });
      const receipt = (id: string, status: string, code: string) => ({
        messageId: `V-${id.slice(0, 6)}`,
        msisdn: '447700900001',
        status,
        'err-code': code,
        'client-ref': id,
        'message-timestamp': '2026-11-28 10:00:05',
      });
      const posted = await vonage.call<Outcome>('POST', '/webhooks/vonage', {
        json: signed(receipt(a, 'delivered', '0')),
      });
      expect(posted.body.recorded).toBe(1);
      const query = new URLSearchParams(signed(receipt(b, 'failed', '9'))).toString();
      expect((await vonage.call<Outcome>('GET', `/webhooks/vonage?${query}`)).body.recorded).toBe(1);
      expect(await ledger(t, a)).toMatchObject({ status: 'delivered' });
      expect(await ledger(t, b)).toMatchObject({
        status: 'bounced',
        bounce: 'hard',
        reason: 'Vonage failed: error 9',
      });
      expect(await quarantined(t, 'sms', '+447700900002')).toBeDefined();
    });

    it('refuses unsigned, mis-signed and stale receipts, and every receipt when no secret is set', async () => {
      const id = await insertMessage(t, { channel: 'sms', address: '+447700900003' });
      const fields = { messageId: 'V9', status: 'failed', 'err-code': '9', 'client-ref': id };
      const good = signed(fields);
      const md5 = createHash('md5').update('x').digest('hex');
      const answers = [
        await vonage.call('POST', '/webhooks/vonage', { json: fields }),
        await vonage.call('POST', '/webhooks/vonage', { json: { ...good, sig: md5 } }),
        await vonage.call('POST', '/webhooks/vonage', { json: { ...good, 'err-code': '1' } }),
        await vonage.call('POST', '/webhooks/vonage', { json: signed(fields, Date.now() - 10 * 60_000) }),
        await unsigned.call('POST', '/webhooks/vonage', { json: good }),
      ];
      expect(answers.map((a) => a.status)).toEqual([403, 403, 403, 403, 403]);
      expect(await eventsOf(t, id)).toEqual([]);
    });
  });

  it('takes a report mailed to the dev outbox, and keeps the mail there too', async () => {
    const outbox = await startDevOutbox({ database: t.database, port: 0 });
    const id = await insertMessage(t, { address: 'gone@example.org' });
    const transport = nodemailer.createTransport({ host: '127.0.0.1', port: outbox.port, secure: false });
    try {
      await transport.sendMail({
        envelope: { from: '', to: ['bounces@example.test'] },
        raw: dsnEmail({
          originalMessageId: `<${id}@shop.example.test>`,
          recipient: 'gone@example.org',
          action: 'failed',
          status: '5.1.2',
        }),
      });
    } finally {
      transport.close();
      await outbox.close();
    }
    expect(await ledger(t, id)).toMatchObject({ status: 'bounced', bounce: 'hard' });
    expect(await quarantined(t, 'email', 'gone@example.org')).toBeDefined();
    const kept = await t.database.db
      .selectFrom('outbox_messages')
      .select('subject')
      .where('recipient', '=', 'bounces@example.test')
      .execute();
    expect(kept).toEqual([{ subject: 'Undelivered Mail Returned to Sender' }]);
  });

  it('records a report from a file with `baton feedback`, and refuses a file that is no report', async () => {
    const id = await insertMessage(t, { address: 'spam-reporter@isp.example' });
    const file = path.join(t.config.dataDir, 'complaint.eml');
    writeFileSync(
      file,
      arfEmail({
        originalMessageId: `<${id}@x>`,
        feedbackType: 'abuse',
        recipient: 'spam-reporter@isp.example',
      }),
    );
    const run = await baton(['feedback', file, '--json'], settingsOf(t));
    expect(run.code).toBe(0);
    expect(json<Outcome>(run)).toEqual({ recorded: 1, duplicates: 0, unknown: 0, early: 0, ignored: {} });
    expect(await quarantined(t, 'email', 'spam-reporter@isp.example')).toEqual({
      reason: 'complaint (abuse)',
    });

    const plain = path.join(t.config.dataDir, 'plain.eml');
    writeFileSync(plain, 'From: a@b.example\r\nSubject: hi\r\n\r\nhello\r\n');
    const refused = await baton(['feedback', plain], settingsOf(t));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/is not a report/);
  });
});
