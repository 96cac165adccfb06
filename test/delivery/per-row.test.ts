import { afterAll, beforeAll, expect, it } from 'vitest';
import { saveCampaign, validateCampaign } from '../../src/campaigns/store.ts';
import { type ChannelProviders } from '../../src/channels/providers/registry.ts';
import { loadConfig } from '../../src/config.ts';
import { LedgerComposer } from '../../src/delivery/composer.ts';
import { messageId } from '../../src/delivery/message-id.ts';
import { listPreviews } from '../../src/delivery/previews.ts';
import { ledgerCounts } from '../../src/delivery/queue.ts';
import { Sender } from '../../src/delivery/sender.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { Engine } from '../../src/engine/engine.ts';
import { transitionRows } from '../../src/engine/run-inspection.ts';
import { ValidationError } from '../../src/errors.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { TokenSigner } from '../../src/tracking/tokens.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { loadDataset } from '../helpers/expressions.ts';
import { startApi } from '../helpers/http.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { deliveryServices } from '../helpers/delivery.ts';

/**
 * One message per row of a one-to-many link (perRowOf): one email per confirmed booking, personalised
 * with the booking (`item.*`), sent to the recipient's address or to the booking's own, each message
 * once with an id of its own, and the recipients with at least one sent message on `sent`.
 */
const SCHEMA = parseSchemaText(`
tables:
  people:
    primaryKey: id
    columns: { id: integer, name: string, email: string, ok: boolean }
    links:
      bookings: { table: bookings, cardinality: one-to-many, on: { id: person_id } }
      home: { table: homes, cardinality: many-to-one, on: { id: person_id } }
    targeting:
      email: { address: email, optIn: ok }
  bookings:
    primaryKey: id
    columns: { id: integer, person_id: integer, flight: string, status: string, contact: string, seats: integer }
  homes:
    primaryKey: person_id
    columns: { person_id: integer, city: string }
`);
const PEOPLE = [
  { id: 1, name: 'Ann', email: 'ann@example.test', ok: true },
  { id: 2, name: 'Bob', email: 'bob@example.test', ok: true },
  // Shares Bob's address: a message about each of their own bookings is no duplicate.
  { id: 3, name: 'Cid', email: 'BOB@example.test', ok: true },
  { id: 4, name: 'Dan', email: 'dan@example.test', ok: false },
  { id: 5, name: 'Eve', email: 'eve@example.test', ok: true },
];
const BOOKINGS = [
  { id: 10, person_id: 1, flight: 'BT101', status: 'confirmed', contact: 'ann.work@example.test', seats: 1 },
  { id: 11, person_id: 1, flight: 'BT202', status: 'confirmed', contact: 'ann.work@example.test', seats: 2 },
  { id: 12, person_id: 1, flight: 'BT303', status: 'cancelled', contact: 'ann.work@example.test', seats: 1 },
  {
    id: 20,
    person_id: 2,
    flight: 'BT404',
    status: 'confirmed',
    contact: 'bob.travel@example.test',
    seats: 3,
  },
  { id: 30, person_id: 3, flight: 'BT505', status: 'confirmed', contact: '', seats: 1 },
  { id: 40, person_id: 4, flight: 'BT606', status: 'confirmed', contact: 'dan@example.test', seats: 1 },
];
const START = Date.parse('2026-11-20T09:00:00Z');

function mailActivity(perRowOf: unknown) {
  return {
    type: 'email',
    input: 'everyone',
    from: 'air@example.test',
    subject: '{{ profile.name }}, flight {{ item.flight }}',
    html: '<html><body><p>{{ item.seats }} seat(s) on {{ item.flight }}: <a href="https://air.example/b/{{ item.id }}">your booking</a></p></body></html>',
    perRowOf,
  };
}

describeEachDatabase('one message per row of a link', (t) => {
  let sink: SmtpSink;
  let providers: ChannelProviders;
  let signer: TokenSigner;
  let config: ReturnType<typeof loadConfig>;
  const confirmed = {
    link: 'bookings',
    where: { field: 'status', op: 'eq', value: 'confirmed' },
  };

  beforeAll(async () => {
    sink = await startSmtpSink();
    await loadDataset(t, SCHEMA, { people: PEOPLE, bookings: BOOKINGS, homes: [] });
    ({ config, providers, signer } = deliveryServices(t, sink.url));
  });
  afterAll(async () => {
    await providers.close();
    await sink.close();
  });

  async function send(id: string, perRowOf: unknown) {
    await saveCampaign(t.database, {
      id,
      name: id,
      activities: {
        everyone: { type: 'build-audience', dimension: 'people' },
        mail: mailActivity(perRowOf),
        after: { type: 'end', input: 'mail.sent' },
      },
    });
    const clock = new ManualClock(START);
    const engine = new Engine(t.database, { clock });
    const { run, finished } = await engine.start(id, { mode: 'live' });
    await finished;
    const earlier = sink.received().length;
    await new Sender(t.database, {
      owner: 'test-sender',
      composer: new LedgerComposer(t.database, { providers, signer, publicUrl: 'https://t.example' }),
      now: () => clock.now(),
    }).drain();
    clock.advance(5_000);
    const woken = await engine.sweep();
    const status = await woken[0]!.finished;
    await engine.close();
    const messages = await t.database.db
      .selectFrom('messages')
      .select(['id', 'recipient', 'item', 'address', 'status', 'reason'])
      .where('run_id', '=', run)
      .orderBy('position')
      .execute();
    return { run, status, messages, received: sink.received().slice(earlier) };
  }

  it('sends one email per matching row, personalised with it, to the recipient', async () => {
    const { run, status, messages, received } = await send('per-booking', confirmed);
    expect(messages.map((m) => [m.recipient, m.item, m.address, m.status, m.reason])).toEqual([
      ['1', '10', 'ann@example.test', 'sent', null],
      ['1', '11', 'ann@example.test', 'sent', null],
      ['2', '20', 'bob@example.test', 'sent', null],
      ['3', '30', 'BOB@example.test', 'sent', null],
      ['4', '40', 'dan@example.test', 'excluded', 'not-opted-in'],
    ]);
    // Ids are the ledger's deterministic ones, one per row.
    expect(messages[1]!.id).toBe(messageId(`${run}/mail/1/11`));
    expect(new Set(messages.map((m) => m.id)).size).toBe(messages.length);
    // (The SMTP server reports envelope addresses in lower case.)
    expect(received.map((m) => [m.envelope.to[0]!.toLowerCase(), m.subject]).sort()).toEqual([
      ['ann@example.test', 'Ann, flight BT101'],
      ['ann@example.test', 'Ann, flight BT202'],
      ['bob@example.test', 'Bob, flight BT404'],
      ['bob@example.test', 'Cid, flight BT505'],
    ]);
    const second = received.find((m) => m.subject === 'Ann, flight BT202')!;
    expect(second.html).toContain('2 seat(s) on BT202');
    expect(second.messageId).toBe(`<${messages[1]!.id}@t.example>`);
    // The recipients with a sent message, once each.
    expect(status).toMatchObject({ status: 'done', counts: { 'mail.sent': 3 } });
    const sent = await transitionRows(t.database, run, 'mail.sent', { limit: 10, offset: 0 });
    expect(sent.rows.map((r) => r.id)).toEqual([1, 2, 3]);
  });

  it("sends to the row's own address when asked, and excludes rows without one", async () => {
    const { messages, received } = await send('per-booking-contact', { ...confirmed, address: 'contact' });
    expect(messages.map((m) => [m.item, m.address, m.status, m.reason])).toEqual([
      ['10', 'ann.work@example.test', 'sent', null],
      ['11', 'ann.work@example.test', 'sent', null],
      ['20', 'bob.travel@example.test', 'sent', null],
      ['30', '', 'excluded', 'no-address'],
      ['40', 'dan@example.test', 'excluded', 'not-opted-in'],
    ]);
    expect(received.map((m) => m.envelope.to[0]).sort()).toEqual([
      'ann.work@example.test',
      'ann.work@example.test',
      'bob.travel@example.test',
    ]);
  });

  it('counts and previews messages per row in a test run, and proofs show the previewed row', async () => {
    await saveCampaign(t.database, {
      id: 'per-booking-test',
      name: 'Per booking (test)',
      activities: {
        everyone: { type: 'build-audience', dimension: 'people' },
        mail: mailActivity('bookings'),
      },
    });
    const engine = new Engine(t.database);
    const { run, finished } = await engine.start('per-booking-test');
    expect((await finished).status).toBe('done');
    await engine.close();
    const previews = await listPreviews(t.database, run);
    // One preview per recipient (its first row), not three of Ann's.
    expect(
      previews.map((p) => [p.recipient, (p.content as { item: string; message: { subject: string } }).item]),
    ).toEqual([
      ['1', '10'],
      ['2', '20'],
      ['3', '30'],
    ]);
    expect((previews[0]!.content as { message: { subject: string } }).message.subject).toBe(
      'Ann, flight BT101',
    );
    const logs = await t.database.db
      .selectFrom('run_logs')
      .select('message')
      .where('run_id', '=', run)
      .where('activity', '=', 'mail')
      .execute();
    // Every booking (no filter): Ann's three, cancelled included, Bob's, Cid's; Dan's is not opted in.
    expect(logs.map((l) => l.message)).toContain('test run: would send 5 of 6; excluded: not-opted-in 1');

    const api = await startApi(t, config);
    try {
      const before = sink.received().length;
      const answer = await api.call<{ proofs: Array<{ recipient: string; error?: string }> }>(
        'POST',
        `/api/runs/${run}/proofs`,
        { json: { activity: 'mail', to: ['qa@example.test'], recipients: ['2', '5'] } },
      );
      expect(answer.status).toBe(200);
      expect(answer.body.proofs[1]!.error).toMatch(/previewed recipients only, and 5 was not previewed/);
      expect(
        sink
          .received()
          .slice(before)
          .map((m) => m.subject),
      ).toEqual(['[Proof] Bob, flight BT404']);
    } finally {
      await api.close();
    }
  });

  it('refuses a perRowOf that is not a one-to-many link, a bad filter or address', async () => {
    const check = async (perRowOf: unknown) => {
      const error = await validateCampaign(t.database, {
        id: 'bad',
        name: 'Bad',
        activities: {
          everyone: { type: 'build-audience', dimension: 'people' },
          mail: mailActivity(perRowOf),
        },
      }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ValidationError);
      return (error as ValidationError).issues;
    };
    expect(await check('flights')).toEqual([
      {
        path: 'activities.mail.perRowOf',
        message: 'people has no link "flights" (one-to-many links: bookings)',
      },
    ]);
    expect(await check({ link: 'home' })).toEqual([
      {
        path: 'activities.mail.perRowOf.link',
        message: '"home" is a many-to-one link: compare its columns directly (home.<column>)',
      },
    ]);
    const filter = await check({ link: 'bookings', where: { field: 'gate', op: 'eq', value: 'A' } });
    expect(filter).toHaveLength(1);
    expect(filter[0]!.path).toMatch(/^activities\.mail\.perRowOf\.where/);
    expect(filter[0]!.message).toMatch(/gate/);
    expect(await check({ link: 'bookings', address: 'seats' })).toEqual([
      { path: 'activities.mail.perRowOf.address', message: 'seats is a integer; expected string' },
    ]);
  });

  it('counts the ledger per row', async () => {
    const { run } = await send('per-booking-all', 'bookings');
    expect((await ledgerCounts(t.database, run, 'mail')).byStatus).toEqual({ sent: 5, excluded: 1 });
  });
});
