import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { BounceMailbox } from '../../src/tracking/feedback/bounce-mailbox.ts';
import { Pop3Session, parsePop3Url } from '../../src/tracking/feedback/pop3-client.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/databases.ts';
import { insertLedgerRow } from '../helpers/ledger-rows.ts';
import { arfEmail, dsnEmail } from '../helpers/mail-reports.ts';
import { startPop3Server, type Pop3Server } from '../helpers/pop3-server.ts';

/**
 * A bounce mailbox read over POP3, against a real POP3 server over TCP and TLS, on both databases: reports
 * recorded and deleted, other mail deleted, reports on messages still being sent kept, nothing deleted
 * when a session is cut short (and nothing counted twice when it is read again), credentials never shown.
 */
const USER = 'bounces@example.test';
const PASSWORD = 'p@ss:word/1';

function insertMessage(t: TestDatabase, status = 'sent'): Promise<string> {
  return insertLedgerRow(t, {
    run_id: 'run-m',
    campaign_id: 'winter',
    address: `${randomUUID().slice(0, 8)}@example.net`,
    status,
    sent_at: status === 'sent' ? new Date().toISOString() : null,
  });
}

const bounce = (id: string) =>
  dsnEmail({
    originalMessageId: `<${id}@shop.example>`,
    recipient: 'x@example.net',
    action: 'failed',
    status: '5.1.1',
  });

describeEachDatabase('the bounce mailbox (POP3)', (t) => {
  let server: Pop3Server;
  beforeAll(async () => {
    server = await startPop3Server({ user: USER, password: PASSWORD });
  });
  afterAll(() => server.close());

  const statusOf = async (id: string) =>
    (
      await t.database.db
        .selectFrom('messages')
        .select('status')
        .where('id', '=', id)
        .executeTakeFirstOrThrow()
    ).status;

  it('records the reports, deletes what it dealt with, and keeps reports on messages still being sent', async () => {
    const bounced = await insertMessage(t);
    const complained = await insertMessage(t);
    const sending = await insertMessage(t, 'sending');
    server.add(bounce(bounced));
    server.add(
      arfEmail({
        originalMessageId: `<${complained}@shop.example>`,
        feedbackType: 'abuse',
        recipient: 'y@example.net',
      }),
    );
    server.add(
      'From: someone@example.net\r\nSubject: Out of office\r\n\r\nI am away until Monday.\r\n.hidden line\r\n',
    );
    server.add(bounce(sending));
    const mailbox = new BounceMailbox(t.database, { url: server.url() });
    expect(await mailbox.poll()).toEqual({
      waiting: 4,
      read: 4,
      recorded: 2,
      duplicates: 0,
      unknown: 0,
      notReports: 1,
      kept: 1,
    });
    expect(server.messages()).toEqual([bounce(sending)]);
    expect(await statusOf(bounced)).toBe('bounced');
    expect(
      await t.database.db.selectFrom('events').select('type').where('message_id', '=', complained).execute(),
    ).toEqual([{ type: 'complaint' }]);

    // Once the send is recorded, the kept report goes through.
    await t.database.db
      .updateTable('messages')
      .set({ status: 'sent', sent_at: new Date().toISOString() })
      .where('id', '=', sending)
      .execute();
    expect(await mailbox.poll()).toMatchObject({ waiting: 1, recorded: 1, kept: 0 });
    expect(server.messages()).toEqual([]);
    expect(await statusOf(sending)).toBe('bounced');
  });

  it('deletes nothing when the session is cut short, and counts nothing twice when the mail is read again', async () => {
    const first = await insertMessage(t);
    const second = await insertMessage(t);
    server.add(bounce(first));
    server.add(bounce(second));
    const mailbox = new BounceMailbox(t.database, { url: server.url() });
    // Recorded, then the connection drops before the report of the second is retrieved.
    await new BounceMailbox(t.database, { url: server.url(), maxMessages: 1 }).poll();
    expect(server.messages()).toHaveLength(1);
    server.add(bounce(first));
    server.dropNextRetrieve();
    await expect(mailbox.poll()).rejects.toThrow(/closed the connection|connection failed/);
    expect(server.messages()).toHaveLength(2);
    expect(await mailbox.poll()).toMatchObject({ read: 2, recorded: 1, duplicates: 1 });
    expect(server.messages()).toEqual([]);
    const bounceEvents = await t.database.db
      .selectFrom('events')
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .where('message_id', 'in', [first, second])
      .executeTakeFirstOrThrow();
    expect(Number(bounceEvents.n)).toBe(2);
  });

  it('reports refused credentials and a locked maildrop without showing the password', async () => {
    const wrong = new BounceMailbox(t.database, { url: server.url({ password: 'nope' }) });
    const refused = await wrong.poll().then(
      () => 'no error',
      (error: Error) => error.message,
    );
    expect(refused).toMatch(/refused PASS: -ERR \[AUTH\]/);
    expect(refused).not.toContain('nope');
    const holder = await Pop3Session.open(parsePop3Url(server.url()));
    try {
      await expect(new BounceMailbox(t.database, { url: server.url() }).poll()).rejects.toThrow(/IN-USE/);
    } finally {
      await holder.quit();
    }
  });
});

it('reads a mailbox over TLS, checking the certificate', async () => {
  const folder = mkdtempSync(path.join(tmpdir(), 'baton-pop3s-'));
  const key = path.join(folder, 'key.pem');
  const cert = path.join(folder, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '1',
      '-subj',
      '/CN=127.0.0.1',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ],
    { stdio: 'ignore' },
  );
  const tlsServer = await startPop3Server({
    user: USER,
    password: PASSWORD,
    tls: { key: readFileSync(key, 'utf8'), cert: readFileSync(cert, 'utf8') },
  });
  try {
    tlsServer.add('From: a@b.example\r\nSubject: hello\r\n\r\n..starts with a dot\r\nbody\r\n');
    const location = parsePop3Url(tlsServer.url());
    expect(location).toMatchObject({ secure: true, user: USER, password: PASSWORD });
    await expect(Pop3Session.open(location)).rejects.toThrow(/self-signed|certificate/);
    const session = await Pop3Session.open(location, { ca: readFileSync(cert) });
    expect(await session.list()).toEqual([{ number: 1, size: expect.any(Number) as number }]);
    expect((await session.retrieve(1)).toString()).toBe(
      'From: a@b.example\r\nSubject: hello\r\n\r\n..starts with a dot\r\nbody\r\n',
    );
    await session.quit();
  } finally {
    await tlsServer.close();
  }
});

it('refuses a malformed BOUNCE_MAILBOX_URL without repeating it', () => {
  expect(() => loadConfig({ BOUNCE_MAILBOX_URL: 'imap://u:secret@host' }, '/tmp')).toThrow(
    /must start with pop3s:\/\//,
  );
  expect(() => loadConfig({ BOUNCE_MAILBOX_URL: 'imap://u:secret@host' }, '/tmp')).not.toThrow(/secret/);
  expect(() => loadConfig({ BOUNCE_MAILBOX_URL: 'pop3s://host' }, '/tmp')).toThrow(/needs a host and a user/);
  expect(
    loadConfig({ BOUNCE_MAILBOX_URL: 'pop3s://u:p@mail.example', BOUNCE_MAILBOX_POLL_SECONDS: '30' }, '/tmp'),
  ).toMatchObject({
    bounceMailboxPollMs: 30_000,
  });
});
