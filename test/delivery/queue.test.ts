import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { releaseAddress } from '../../src/delivery/address-lists.ts';
import { messageId } from '../../src/delivery/message-id.ts';
import { previewQueue, queueMessages, type QueueRequest } from '../../src/delivery/queue.ts';
import { createWorkingTable, type WorkingTable } from '../../src/engine/working-tables.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { findTable } from '../../src/schema/types.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { loadDataset } from '../helpers/expressions.ts';

/**
 * The ledger's one statement: every recipient queued or excluded with the first reason that applies.
 * Each fixture row is made for one reason; the expectations are written out by hand.
 */
const SCHEMA = parseSchemaText(`
tables:
  people:
    primaryKey: id
    columns: { id: integer, email: string, phone: string, ok: boolean }
    targeting:
      email: { address: email, optIn: ok }
      sms: { address: phone, optIn: ok }
`);
const NOW = Date.parse('2026-11-20T12:00:00Z');
const DAY = 86_400_000;

const PEOPLE = [
  { id: 1, email: 'ann@x.io', phone: '+33 6 12 34 56 78', ok: true },
  { id: 2, email: null, phone: null, ok: true },
  { id: 3, email: '  ', phone: '  ', ok: true },
  { id: 4, email: 'not-an-email', phone: '06-12-ab', ok: true },
  { id: 5, email: 'bob@x.io', phone: '+33612345679', ok: false },
  { id: 6, email: 'unsub@x.io', phone: '+33612345680', ok: true },
  { id: 7, email: ' BOUNCED@x.io', phone: '+33612345681', ok: true },
  { id: 8, email: 'Dup@x.io', phone: '+33 6 12 34 56 82', ok: true },
  { id: 9, email: 'dup@X.io', phone: '+33(6)12345682', ok: true },
  { id: 10, email: 'tired@x.io', phone: '+33612345683', ok: true },
  { id: 11, email: 'c1@x.io', phone: '+33612345684', ok: null },
  { id: 12, email: 'c2@x.io', phone: '+33612345685', ok: true },
  { id: 13, email: 'c3@x.io', phone: '+33612345686', ok: true },
];

describeEachDatabase('the ledger: queueing and exclusions', (t) => {
  let recipients: WorkingTable;
  beforeAll(async () => {
    await loadDataset(t, SCHEMA, { people: PEOPLE });
    const people = findTable(SCHEMA, 'people')!;
    recipients = await createWorkingTable(
      t.database,
      'queue_test',
      people,
      sql`SELECT id FROM ${t.database.dialect.dataTableRef('people')}`,
    );
    const at = new Date(NOW).toISOString();
    await t.database.db
      .insertInto('unsubscriptions')
      .values({ channel: 'email', address: 'unsub@x.io', message_id: null, at })
      .execute();
    await t.database.db
      .insertInto('quarantine')
      .values({ channel: 'email', address: 'bounced@x.io', reason: 'hard bounce', message_id: null, at })
      .execute();
    // Recipient 10 was sent two emails in the last week (one of them since delivered), and one a month ago
    // (outside the cap's days).
    for (const [n, ago, status] of [
      [1, 1, 'sent'],
      [2, 3, 'delivered'],
      [3, 30, 'sent'],
    ] as const) {
      await t.database.db
        .insertInto('messages')
        .values({
          id: `earlier-${n}`,
          run_id: 'earlier',
          activity: `mail-${n}`,
          campaign_id: 'earlier',
          channel: 'email',
          recipient: '10',
          address: 'tired@x.io',
          position: 1,
          status,
          reason: null,
          bounce: null,
          lease_owner: null,
          lease_until: null,
          provider: null,
          provider_message_id: null,
          links: null,
          queued_at: at,
          sent_at: new Date(NOW - ago * DAY).toISOString(),
          updated_at: at,
        })
        .execute();
    }
  });

  const request = (over: Partial<QueueRequest>): QueueRequest => ({
    run: 'run-1',
    campaign: 'c',
    activity: 'mail',
    channel: 'email',
    recipients,
    target: { channel: 'email', address: 'email', optIn: 'ok' },
    category: 'marketing',
    frequencyCap: { messages: 2, days: 7 },
    capacity: 3,
    now: NOW,
    ...over,
  });

  const statuses = async (run: string, activity: string) =>
    (
      await t.database.db
        .selectFrom('messages')
        .select(['id', 'recipient', 'status', 'reason'])
        .where('run_id', '=', run)
        .where('activity', '=', activity)
        .execute()
    )
      .sort((a, b) => Number(a.recipient) - Number(b.recipient))
      .map((m) => [m.recipient, m.status, m.reason]);

  it('excludes each recipient for the first reason that applies, and counts every one', async () => {
    const expected = [
      ['1', 'queued', null],
      ['2', 'excluded', 'no-address'],
      ['3', 'excluded', 'no-address'],
      ['4', 'excluded', 'malformed-address'],
      ['5', 'excluded', 'not-opted-in'],
      ['6', 'excluded', 'unsubscribed'],
      ['7', 'excluded', 'quarantined'],
      ['8', 'queued', null],
      ['9', 'excluded', 'duplicate-address'],
      ['10', 'excluded', 'frequency-cap'],
      ['11', 'excluded', 'not-opted-in'],
      // The window holds three messages: 1, 8 and 12; 13 is beyond it.
      ['12', 'queued', null],
      ['13', 'excluded', 'window-overflow'],
    ];
    const preview = await previewQueue(t.database, request({}));
    expect(await statuses('run-1', 'mail')).toEqual([]);
    const counts = await queueMessages(t.database, request({}));
    expect(await statuses('run-1', 'mail')).toEqual(expected);
    const excluded = {
      'no-address': 2,
      'malformed-address': 1,
      'not-opted-in': 2,
      unsubscribed: 1,
      quarantined: 1,
      'duplicate-address': 1,
      'frequency-cap': 1,
      'window-overflow': 1,
    };
    expect(counts).toMatchObject({ queued: 3, excluded, byStatus: { queued: 3, excluded: 10 } });
    expect(preview).toEqual({ queued: 3, excluded });
    // Queued again (an activity executed again after a crash): nothing new, the same ids.
    await queueMessages(t.database, request({}));
    const ids = await t.database.db
      .selectFrom('messages')
      .select(['id', 'recipient'])
      .where('run_id', '=', 'run-1')
      .execute();
    expect(ids).toHaveLength(13);
    for (const { id, recipient } of ids) expect(id).toBe(messageId(`run-1/mail/${recipient}`));
  });

  it('lets transactional messages past the opt-in and the frequency cap', async () => {
    await queueMessages(
      t.database,
      request({ activity: 'receipt', category: 'transactional', capacity: 100 }),
    );
    expect(
      (await statuses('run-1', 'receipt')).filter(([, status]) => status === 'queued').map(([r]) => r),
    ).toEqual(['1', '5', '8', '10', '11', '12', '13']);
  });

  it('compares phone numbers without their punctuation', async () => {
    await queueMessages(
      t.database,
      request({
        activity: 'text',
        channel: 'sms',
        target: { channel: 'sms', address: 'phone', optIn: 'ok' },
        capacity: 100,
      }),
    );
    const rows = await statuses('run-1', 'text');
    expect(rows.filter(([, , reason]) => reason === 'malformed-address').map(([r]) => r)).toEqual(['4']);
    expect(rows.filter(([, , reason]) => reason === 'duplicate-address').map(([r]) => r)).toEqual(['9']);
    expect(rows.filter(([, , reason]) => reason === 'no-address').map(([r]) => r)).toEqual(['2', '3']);
  });

  it('queues an address again once it is released from the quarantine or the unsubscriptions', async () => {
    // Released as a person types it: the lists compare normalised addresses.
    await releaseAddress(t.database, 'quarantine', 'email', ' Bounced@X.io ');
    await releaseAddress(t.database, 'unsubscriptions', 'email', 'UNSUB@x.io');
    await expect(releaseAddress(t.database, 'quarantine', 'email', 'bounced@x.io')).rejects.toThrow(
      'bounced@x.io is not in the quarantine of email.',
    );
    await queueMessages(t.database, request({ activity: 'again', capacity: 100 }));
    const rows = await statuses('run-1', 'again');
    expect(rows.filter(([r]) => r === '6' || r === '7')).toEqual([
      ['6', 'queued', null],
      ['7', 'queued', null],
    ]);
  });
});
