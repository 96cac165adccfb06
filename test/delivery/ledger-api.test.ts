import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { AddressEntry } from '../../src/delivery/address-lists.ts';
import type { MessageTrace } from '../../src/delivery/message-trace.ts';
import { recordFeedback } from '../../src/tracking/feedback/recorder.ts';
import { baton, json, settingsOf } from '../helpers/cli.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { startApi, type ApiCall } from '../helpers/http.ts';
import { ledgerRow } from '../helpers/ledger-rows.ts';

/**
 * A message of the ledger with its events, and the quarantine and unsubscription lists, through the API
 * and the CLI on both databases: what a person reads to find out what happened to a message, and how an
 * address is taken off a list.
 */
type Page = { total: number; entries: AddressEntry[] };

describeEachDatabase('ledger messages and address lists', (t) => {
  let api: { call: ApiCall; close: () => Promise<void> };
  let bounced: string;
  beforeAll(async () => {
    api = await startApi(t);
    const now = Date.now();
    const message = (address: string) =>
      ledgerRow({
        run_id: 'run-9',
        campaign_id: 'autumn',
        recipient: address.slice(0, 3),
        address,
        provider_message_id: 'q-1',
        links: JSON.stringify(['https://shop.example/a']),
        queued_at: new Date(now - 60_000).toISOString(),
        sent_at: new Date(now - 50_000).toISOString(),
        updated_at: new Date(now - 50_000).toISOString(),
      });
    const rows = [message('Gone@Example.org'), message('angry@isp.example')];
    await t.database.db.insertInto('messages').values(rows).execute();
    bounced = rows[0]!.id;
    await recordFeedback(t.database, {
      items: [
        { kind: 'bounce', messageId: bounced, key: 'k1', bounce: 'hard', reason: '550 5.1.1 no such user' },
        { kind: 'complaint', messageId: rows[1]!.id, key: 'k2', reason: 'abuse' },
      ],
      ignored: {},
    });
    await t.database.db
      .insertInto('unsubscriptions')
      .values({ channel: 'sms', address: '+15550100', message_id: null, at: new Date(now).toISOString() })
      .execute();
  });
  afterAll(() => api.close());

  it('traces a message: status, times, events and the lists its address is on', async () => {
    const trace = await api.call<MessageTrace>('GET', `/api/messages/${bounced}`);
    expect(trace.status).toBe(200);
    expect(trace.body).toMatchObject({
      id: bounced,
      campaign: 'autumn',
      run: 'run-9',
      address: 'Gone@Example.org',
      status: 'bounced',
      bounce: 'hard',
      reason: '550 5.1.1 no such user',
      providerMessageId: 'q-1',
      links: ['https://shop.example/a'],
      unsubscribed: null,
      quarantined: {
        channel: 'email',
        address: 'gone@example.org',
        reason: '550 5.1.1 no such user',
        messageId: bounced,
      },
    });
    expect(trace.body.events.map((e) => [e.type, e.bounce, e.human])).toEqual([['bounce', 'hard', true]]);
    const missing = await api.call<{ error: { message: string } }>('GET', `/api/messages/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toMatch(/No message .* in the ledger/);
  });

  it('lists and searches the quarantine and the unsubscriptions, newest first', async () => {
    const all = await api.call<Page>('GET', '/api/quarantine');
    expect(all.body.total).toBe(2);
    expect(all.body.entries.map((e) => e.address).sort()).toEqual(['angry@isp.example', 'gone@example.org']);
    const byReason = await api.call<Page>('GET', '/api/quarantine?search=COMPLAINT');
    expect(byReason.body.entries.map((e) => [e.address, e.reason])).toEqual([
      ['angry@isp.example', 'complaint (abuse)'],
    ]);
    expect((await api.call<Page>('GET', '/api/quarantine?channel=sms')).body).toEqual({
      total: 0,
      entries: [],
    });
    const unsubscribed = await api.call<Page>('GET', '/api/unsubscriptions?channel=sms&search=555');
    expect(unsubscribed.body.entries).toMatchObject([{ channel: 'sms', address: '+15550100', reason: null }]);
    const bad = await api.call('GET', '/api/quarantine?channel=fax&limit=0');
    expect(bad.status).toBe(400);
  });

  it('takes an address off a list by its channel and address as typed, once', async () => {
    const path = `/api/quarantine/email/${encodeURIComponent(' ANGRY@isp.example')}`;
    expect((await api.call('DELETE', path)).status).toBe(204);
    const again = await api.call<{ error: { message: string } }>('DELETE', path);
    expect(again.status).toBe(404);
    expect(again.body.error.message).toBe('angry@isp.example is not in the quarantine of email.');
    expect(
      (await api.call('DELETE', `/api/unsubscriptions/sms/${encodeURIComponent('+1 555 0100')}`)).status,
    ).toBe(204);
    expect((await api.call<Page>('GET', '/api/unsubscriptions')).body.total).toBe(0);
  });

  it('does the same from the command line', async () => {
    const settings = settingsOf(t);
    const traced = await baton(['message', bounced], settings);
    expect(traced.code).toBe(0);
    expect(traced.stdout).toContain('status    bounced (hard) — 550 5.1.1 no such user');
    expect(traced.stdout).toMatch(/bounce\s+human/);
    const listed = json<Page>(await baton(['quarantine', 'list', '--json'], settings));
    expect(listed.entries.map((e) => e.address)).toEqual(['gone@example.org']);
    const released = await baton(['quarantine', 'release', 'email', 'GONE@example.org'], settings);
    expect(released.stdout).toContain('GONE@example.org is no longer in the quarantine of email.');
    const empty = await baton(['quarantine', 'list'], settings);
    expect(empty.stdout).toContain('The quarantine list is empty');
    const refused = await baton(['quarantine', 'release', 'fax', 'x'], settings);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('The channel must be one of email, sms, push, not "fax".');
  });
});
