import { randomUUID } from 'node:crypto';
import type { Insertable } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { openSqliteConnection, type Database } from '../../src/db/database.ts';
import type { BatonTables } from '../../src/db/tables.ts';
import { reportBreakdown } from '../../src/reporting/breakdowns.ts';
import { campaignReport, type Figures } from '../../src/reporting/report.ts';
import { rebuildRollups, recordRollups, recordRollupsSync } from '../../src/reporting/rollups.ts';
import { baton, json, settingsOf } from '../helpers/cli.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { startApi } from '../helpers/http.ts';

const T0 = Date.parse('2026-03-01T10:00:00.000Z');
const at = (minutes: number, seconds = 0) => new Date(T0 + minutes * 60_000 + seconds * 1000).toISOString();

async function addCampaign(database: Database, id: string, runs: Array<[string, 'live' | 'test']>) {
  const now = at(0);
  await database.db
    .insertInto('campaigns')
    .values({
      id,
      name: `Campaign ${id}`,
      description: null,
      tags: '[]',
      status: 'live',
      document: '{}',
      created_at: now,
      updated_at: now,
      version: 1,
      status_changed_at: now,
    })
    .execute();
  for (const [run, mode] of runs) {
    await database.db
      .insertInto('runs')
      .values({
        id: run,
        campaign_id: id,
        mode,
        trigger: 'manual',
        status: 'done',
        document: '{}',
        now_ms: T0,
        error: null,
        started_at: at(runs.findIndex(([r]) => r === run)),
        finished_at: null,
        purged_at: null,
        lease_owner: null,
        lease_until: null,
        version: mode === 'live' ? 1 : null,
        variables: null,
      })
      .execute();
  }
}

interface MessageSpec {
  id: string;
  run: string;
  activity: string;
  channel?: string;
  address?: string;
  status: string;
  reason?: string;
  bounce?: 'hard' | 'soft';
  sent?: number;
  delivered?: number;
}

async function addMessages(database: Database, campaign: string, specs: MessageSpec[]) {
  await database.db
    .insertInto('messages')
    .values(
      specs.map((m, i) => ({
        id: m.id,
        run_id: m.run,
        activity: m.activity,
        campaign_id: campaign,
        channel: m.channel ?? 'email',
        recipient: `r-${m.id}`,
        item: null,
        address: m.address ?? `${m.id}@example.com`,
        position: i,
        status: m.status,
        reason: m.reason ?? null,
        bounce: m.bounce ?? null,
        lease_owner: null,
        lease_until: null,
        provider: null,
        provider_message_id: null,
        links: null,
        queued_at: at(0),
        sent_at: m.sent === undefined ? null : at(m.sent),
        delivered_at: m.delivered === undefined ? null : at(m.delivered),
        updated_at: at(m.delivered ?? m.sent ?? 1),
      })),
    )
    .execute();
}

type EventRow = Insertable<BatonTables['events']>;

interface EventSpec {
  message: string;
  type: string;
  human?: boolean;
  minute: number;
  seconds?: number;
  link?: number;
}

function eventRows(database: Database, campaign: string, messages: MessageSpec[], specs: EventSpec[]) {
  const byId = new Map(messages.map((m) => [m.id, m]));
  return specs.map((e): EventRow => {
    const m = byId.get(e.message)!;
    return {
      id: randomUUID(),
      message_id: m.id,
      recipient: `r-${m.id}`,
      campaign_id: campaign,
      activity: m.activity,
      run_id: m.run,
      channel: m.channel ?? 'email',
      type: e.type,
      link: e.link ?? null,
      url: e.link === undefined ? null : `https://shop.example/${e.link}`,
      human: database.dialect.storedBoolean(e.human ?? true),
      machine_reason: e.human === false ? 'apple-mpp' : null,
      user_agent: null,
      bounce: null,
      reason: null,
      at: at(e.minute, e.seconds ?? 0),
    };
  });
}

/**
 * Inserts events the way the tracking writer does: the rows and their roll-ups in one transaction — on
 * SQLite, when `sync`, in a synchronous transaction of a connection of its own.
 */
async function writeEvents(database: Database, rows: EventRow[], sync = false) {
  if (sync && database.kind === 'sqlite') {
    const connection = openSqliteConnection(database.location);
    try {
      connection.transaction(() => {
        const insert = database.db.insertInto('events').values(rows).compile();
        connection.prepare(insert.sql).run(...(insert.parameters as unknown[]));
        recordRollupsSync(connection, rows);
      })();
    } finally {
      connection.close();
    }
    return;
  }
  await database.db.transaction().execute(async (trx) => {
    await trx.insertInto('events').values(rows).execute();
    await recordRollups(trx, database.kind, rows);
  });
}

const MESSAGES: MessageSpec[] = [
  { id: 'm1', run: 'r1', activity: 'mail', status: 'sent', sent: 1, delivered: 2, address: 'a@One.com' },
  { id: 'm2', run: 'r1', activity: 'mail', status: 'sent', sent: 1, delivered: 2, address: 'b@one.com' },
  { id: 'm3', run: 'r1', activity: 'mail', status: 'sent', sent: 1, delivered: 2, address: 'c@one.com' },
  { id: 'm4', run: 'r1', activity: 'mail', status: 'sent', sent: 1, delivered: 3, address: 'd@two.com' },
  { id: 'm5', run: 'r1', activity: 'mail', status: 'sent', sent: 1, address: 'e@two.com' },
  { id: 'm6', run: 'r1', activity: 'mail', status: 'sent', sent: 1, address: 'f@two.com' },
  { id: 'm7', run: 'r1', activity: 'mail', status: 'bounced', bounce: 'hard', reason: 'user unknown' },
  {
    id: 'm8',
    run: 'r1',
    activity: 'mail',
    status: 'bounced',
    bounce: 'soft',
    reason: 'mailbox full',
    sent: 1,
  },
  { id: 'm9', run: 'r1', activity: 'mail', status: 'failed', reason: 'timeout' },
  { id: 'm10', run: 'r1', activity: 'mail', status: 'excluded', reason: 'unsubscribed' },
  { id: 'm11', run: 'r1', activity: 'mail', status: 'excluded', reason: 'no-address' },
  { id: 'm12', run: 'r1', activity: 'mail', status: 'excluded', reason: 'unsubscribed' },
  { id: 'm13', run: 'r1', activity: 'mail', status: 'uncertain', reason: 'the sender stopped' },
  { id: 'm14', run: 'r1', activity: 'mail', status: 'queued' },
  { id: 'm20', run: 'r2', activity: 'mail', status: 'sent', sent: 61, delivered: 62 },
  { id: 'm21', run: 'r2', activity: 'mail', status: 'excluded', reason: 'quarantined' },
  {
    id: 's1',
    run: 'r1',
    activity: 'text',
    channel: 'sms',
    status: 'sent',
    sent: 1,
    delivered: 2,
    address: '+3312',
  },
  { id: 's2', run: 'r1', activity: 'text', channel: 'sms', status: 'failed', reason: 'invalid number' },
];

const EVENTS: EventSpec[] = [
  // m1: one reader opening three times and clicking twice on one link, once on another.
  { message: 'm1', type: 'open', minute: 5 },
  { message: 'm1', type: 'open', minute: 6 },
  { message: 'm1', type: 'open', minute: 70 },
  { message: 'm1', type: 'click', minute: 6, link: 0 },
  { message: 'm1', type: 'click', minute: 7, link: 0 },
  { message: 'm1', type: 'click', minute: 8, link: 1 },
  // m2: a privacy proxy's open only.
  { message: 'm2', type: 'open', human: false, minute: 2 },
  // m3: the proxy first, then the reader, who clicks.
  { message: 'm3', type: 'open', human: false, minute: 2 },
  { message: 'm3', type: 'open', minute: 9 },
  { message: 'm3', type: 'click', minute: 9, seconds: 30, link: 0 },
  // m4: an unsubscribe replayed, and a complaint.
  { message: 'm4', type: 'unsubscribe', minute: 10 },
  { message: 'm4', type: 'unsubscribe', minute: 10, seconds: 5 },
  { message: 'm4', type: 'complaint', minute: 11 },
  // m5: a link scanner.
  { message: 'm5', type: 'click', human: false, minute: 1, link: 0 },
  { message: 'm20', type: 'open', minute: 65 },
  { message: 's1', type: 'click', minute: 3, link: 0 },
];

const zeroMachine = { opens: 0, uniqueOpens: 0, clicks: 0, uniqueClicks: 0, unsubscribes: 0, complaints: 0 };

const MAIL: Figures = {
  targeted: 16,
  excluded: { unsubscribed: 2, 'no-address': 1, quarantined: 1 },
  sent: 8,
  delivered: 5,
  bounced: 2,
  hardBounces: 1,
  softBounces: 1,
  bounceReasons: { 'user unknown': 1, 'mailbox full': 1 },
  failed: 1,
  errors: { timeout: 1 },
  uncertain: 1,
  pending: 1,
  opens: 5,
  uniqueOpens: 3,
  // Delivered 5, of which 2 behind a proxy; of the 3 others, 2 opened (m1, m20): m2, whose only open is
  // the proxy's, counts 2/3 of an opener, rounded: 3 + 1.
  estimatedUniqueOpens: 4,
  estimatedOpens: 7,
  clicks: 4,
  uniqueClicks: 2,
  unsubscribes: 1,
  complaints: 1,
  machine: { ...zeroMachine, opens: 2, uniqueOpens: 2, clicks: 1, uniqueClicks: 1 },
  rateBase: 'delivered',
  deliveryRate: 5 / 8,
  openRate: 3 / 5,
  estimatedOpenRate: 4 / 5,
  clickThroughRate: 2 / 5,
  clickToOpenRate: 2 / 3,
  // Attempted: 7 sent (status), 2 bounced, 1 failed, 1 uncertain.
  bounceRate: 2 / 11,
};

const TEXT: Figures = {
  targeted: 2,
  excluded: {},
  sent: 1,
  delivered: 1,
  bounced: 0,
  hardBounces: 0,
  softBounces: 0,
  bounceReasons: {},
  failed: 1,
  errors: { 'invalid number': 1 },
  uncertain: 0,
  pending: 0,
  opens: 0,
  uniqueOpens: 0,
  estimatedUniqueOpens: 0,
  estimatedOpens: 0,
  clicks: 1,
  uniqueClicks: 1,
  unsubscribes: 0,
  complaints: 0,
  machine: zeroMachine,
  rateBase: 'delivered',
  deliveryRate: 1,
  openRate: 0,
  estimatedOpenRate: 0,
  clickThroughRate: 1,
  clickToOpenRate: null,
  bounceRate: 0,
};

function shuffled<T>(items: T[], random: () => number): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** A seeded generator (mulberry32), so a failure can be replayed. */
function seeded(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

async function rollupTables(database: Database, campaign: string) {
  const minutes = await database.db
    .selectFrom('report_minutes')
    .selectAll()
    .where('campaign_id', '=', campaign)
    .execute();
  const firsts = await database.db
    .selectFrom('report_firsts')
    .selectAll()
    .where('campaign_id', '=', campaign)
    .execute();
  const key = (r: object) =>
    JSON.stringify(Object.values(r).map((v) => (typeof v === 'string' ? v : Number(v))));
  return {
    // A first moved to an earlier minute leaves a row of zeros behind, which a recount does not write.
    minutes: minutes
      .filter((r) => Number(r.events) !== 0 || Number(r.uniques) !== 0 || Number(r.first_any) !== 0)
      .map(key)
      .sort(),
    firsts: firsts.map(key).sort(),
  };
}

describeEachDatabase('reports', (t) => {
  beforeAll(async () => {
    await addCampaign(t.database, 'c1', [
      ['r1', 'live'],
      ['r2', 'live'],
      ['r0', 'test'],
    ]);
    await addMessages(t.database, 'c1', MESSAGES);
    const rows = eventRows(t.database, 'c1', MESSAGES, EVENTS);
    // Out of order and in two batches: the later replays first.
    const random = seeded(7);
    const mixed = shuffled(rows, random);
    await writeEvents(t.database, mixed.slice(0, 9));
    await writeEvents(t.database, mixed.slice(9));
  });

  it('counts every figure from the ledger and the human events, machine events apart', async () => {
    const report = await campaignReport(t.database, 'c1');
    expect(report.campaign).toEqual({ id: 'c1', name: 'Campaign c1' });
    expect(report.activities).toEqual([
      { activity: 'mail', channel: 'email', ...MAIL },
      { activity: 'text', channel: 'sms', ...TEXT },
    ]);
    expect(report.runs.map((r) => [r.run, r.targeted, r.sent, r.uniqueOpens, r.clicks])).toEqual([
      ['r1', 16, 8, 2, 5],
      ['r2', 2, 1, 1, 0],
    ]);
    expect(report.totals).toMatchObject({
      targeted: 18,
      sent: 9,
      delivered: 6,
      failed: 2,
      errors: { timeout: 1, 'invalid number': 1 },
      clicks: 5,
      uniqueClicks: 3,
      clickThroughRate: 3 / 6,
    });
    expect(await campaignReport(t.database, 'c1', { source: 'events' })).toEqual(report);
  });

  it('narrows to a run, an activity and a time range; counts machine events in when asked', async () => {
    const r2 = await campaignReport(t.database, 'c1', { run: 'r2' });
    expect(r2.runs.map((r) => r.run)).toEqual(['r2']);
    expect(r2.activities).toHaveLength(1);
    expect(r2.activities[0]).toMatchObject({ targeted: 2, sent: 1, delivered: 1, opens: 1, uniqueOpens: 1 });
    const text = await campaignReport(t.database, 'c1', { activity: 'text' });
    expect(text.activities.map((a) => a.activity)).toEqual(['text']);
    expect(text.totals).toEqual(TEXT);
    // Minutes 5 to 9 (seconds rounded down): m1's first open, the second, m3's human open.
    const early = await campaignReport(t.database, 'c1', { from: at(5, 20), to: at(9, 59) });
    expect(early.filters).toMatchObject({ from: at(5), to: at(9) });
    expect(early.totals).toMatchObject({ opens: 2, uniqueOpens: 1, clicks: 3, uniqueClicks: 1, targeted: 0 });
    const later = await campaignReport(t.database, 'c1', { from: at(9) });
    // m1's third open is after its first: an open, not a new opener. Sent at minute 61: m20.
    expect(later.totals).toMatchObject({ opens: 3, uniqueOpens: 2, sent: 1, delivered: 1 });
    for (const filters of [{ from: at(5, 20), to: at(9, 59) }, { from: at(9) }, { to: at(3) }]) {
      expect(await campaignReport(t.database, 'c1', { ...filters, source: 'events' })).toEqual(
        await campaignReport(t.database, 'c1', filters),
      );
    }
    const all = await campaignReport(t.database, 'c1', { includeMachine: true, activity: 'mail' });
    expect(all.totals).toMatchObject({ opens: 7, uniqueOpens: 4, clicks: 5, uniqueClicks: 3 });
    expect(all.filters.humanOnly).toBe(false);
  });

  it('breaks down by domain, link, hour, day and reason', async () => {
    const domains = await reportBreakdown(t.database, 'c1', 'domain');
    expect(domains.by).toBe('domain');
    const byName = Object.fromEntries(domains.rows.map((r) => [(r as { domain: string }).domain, r]));
    expect(byName['one.com']).toMatchObject({ targeted: 3, delivered: 3, uniqueOpens: 2, uniqueClicks: 2 });
    expect(byName['two.com']).toMatchObject({ targeted: 3, sent: 3, delivered: 1, uniqueOpens: 0 });
    expect(byName['']).toMatchObject({ targeted: 2 });
    const capped = await reportBreakdown(t.database, 'c1', 'domain', { limit: 1 });
    expect(capped.rows.map((r) => (r as { domain: string }).domain)).toEqual(['example.com', '(others)']);
    expect(capped.rows[1]).toMatchObject({ targeted: 8 });

    const links = await reportBreakdown(t.database, 'c1', 'link');
    expect(links.rows).toEqual([
      { link: 0, url: 'https://shop.example/0', clicks: 4, uniqueClicks: 3, machineClicks: 1 },
      { link: 1, url: 'https://shop.example/1', clicks: 1, uniqueClicks: 1, machineClicks: 0 },
    ]);
    const hours = await reportBreakdown(t.database, 'c1', 'hour');
    expect(hours.rows).toEqual([
      expect.objectContaining({
        at: at(0),
        sent: 8,
        delivered: 5,
        opens: 3,
        uniqueOpens: 2,
        machineOpens: 2,
      }),
      expect.objectContaining({ at: at(60), sent: 1, delivered: 1, opens: 2, uniqueOpens: 1, clicks: 0 }),
    ]);
    const days = await reportBreakdown(t.database, 'c1', 'day');
    expect(days.rows).toEqual([
      expect.objectContaining({
        at: '2026-03-01T00:00:00.000Z',
        sent: 9,
        opens: 5,
        clicks: 5,
        complaints: 1,
      }),
    ]);
    const reasons = await reportBreakdown(t.database, 'c1', 'reason');
    expect(reasons.rows).toContainEqual({ kind: 'excluded', reason: 'unsubscribed', count: 2, share: 0.5 });
    expect(reasons.rows).toContainEqual({ kind: 'bounce', reason: 'user unknown', count: 1, share: 0.5 });
  });

  it('keeps roll-ups equal to a recount on random data, whatever the order, batches and writer of the events', async () => {
    const random = seeded(2026);
    await addCampaign(t.database, 'c2', [
      ['r21', 'live'],
      ['r22', 'live'],
    ]);
    const statuses = ['sent', 'sent', 'sent', 'bounced', 'failed', 'excluded', 'uncertain', 'queued'];
    const messages: MessageSpec[] = Array.from({ length: 150 }, (_, i) => {
      const status = statuses[Math.floor(random() * statuses.length)]!;
      const sent =
        status === 'sent' || (status === 'bounced' && random() < 0.5)
          ? Math.floor(random() * 200)
          : undefined;
      return {
        id: `c2m${i}`,
        run: random() < 0.5 ? 'r21' : 'r22',
        activity: random() < 0.7 ? 'mail' : 'push',
        status,
        reason: status === 'sent' || status === 'queued' ? undefined : `reason ${Math.floor(random() * 3)}`,
        bounce: status === 'bounced' ? (random() < 0.5 ? 'hard' : 'soft') : undefined,
        sent,
        delivered: sent !== undefined && random() < 0.6 ? sent + 1 : undefined,
        address: `u${i}@d${Math.floor(random() * 4)}.test`,
      };
    });
    // The activity decides the channel.
    for (const m of messages) m.channel = m.activity === 'mail' ? 'email' : 'push';
    await addMessages(t.database, 'c2', messages);
    const types = ['open', 'open', 'open', 'click', 'click', 'unsubscribe', 'complaint'];
    const specs: EventSpec[] = Array.from({ length: 1500 }, () => ({
      message: messages[Math.floor(random() * 60)]!.id,
      type: types[Math.floor(random() * types.length)]!,
      human: random() < 0.6,
      minute: Math.floor(random() * 300),
      seconds: Math.floor(random() * 60),
      link: Math.floor(random() * 3),
    }));
    const rows = shuffled(eventRows(t.database, 'c2', messages, specs), random);
    for (let i = 0; i < rows.length;) {
      const size = 1 + Math.floor(random() * 200);
      await writeEvents(t.database, rows.slice(i, i + size), random() < 0.5);
      i += size;
    }
    const filters = [
      {},
      { run: 'r21' },
      { activity: 'push' },
      { from: at(40), to: at(170) },
      { from: at(100, 30) },
      { to: at(12) },
      { includeMachine: true },
    ];
    for (const f of filters) {
      expect(await campaignReport(t.database, 'c2', f)).toEqual(
        await campaignReport(t.database, 'c2', { ...f, source: 'events' }),
      );
    }
    const recorded = await rollupTables(t.database, 'c2');
    const breakdowns = await Promise.all(
      (['domain', 'hour', 'day'] as const).map((by) => reportBreakdown(t.database, 'c2', by)),
    );
    const untouched = await rollupTables(t.database, 'c1');
    await rebuildRollups(t.database, 'c2');
    expect(await rollupTables(t.database, 'c2')).toEqual(recorded);
    expect(await rollupTables(t.database, 'c1')).toEqual(untouched);
    for (const [i, by] of (['domain', 'hour', 'day'] as const).entries())
      expect(await reportBreakdown(t.database, 'c2', by)).toEqual(breakdowns[i]);
    const report = await campaignReport(t.database, 'c2');
    expect(report.totals.targeted).toBe(150);
    expect(report.totals.opens).toBe(specs.filter((e) => e.type === 'open' && e.human).length);
    expect(report.totals.uniqueOpens).toBe(
      new Set(specs.filter((e) => e.type === 'open' && e.human).map((e) => e.message)).size,
    );
  });

  it('keeps roll-ups equal to a recount when writers commit at the same time on the same messages', async () => {
    const random = seeded(58);
    await addCampaign(t.database, 'c3', [['r31', 'live']]);
    // Few messages and minutes, many writers: batches keep moving the same messages' firsts and adding to
    // the same minutes, each in its own transaction, eight at a time (truly at once on PostgreSQL).
    const messages: MessageSpec[] = Array.from({ length: 12 }, (_, i) => ({
      id: `c3m${i}`,
      run: 'r31',
      activity: 'mail',
      status: 'sent',
      sent: 0,
      address: `v${i}@d.test`,
    }));
    await addMessages(t.database, 'c3', messages);
    const specs: EventSpec[] = Array.from({ length: 960 }, () => ({
      message: messages[Math.floor(random() * messages.length)]!.id,
      type: random() < 0.7 ? 'open' : 'click',
      human: random() < 0.5,
      minute: Math.floor(random() * 20),
      seconds: Math.floor(random() * 60),
    }));
    const rows = shuffled(eventRows(t.database, 'c3', messages, specs), random);
    const batches = Array.from({ length: rows.length / 24 }, (_, i) => rows.slice(i * 24, (i + 1) * 24));
    for (let i = 0; i < batches.length; i += 8) {
      await Promise.all(batches.slice(i, i + 8).map((batch) => writeEvents(t.database, batch)));
    }
    const recorded = await rollupTables(t.database, 'c3');
    await rebuildRollups(t.database, 'c3');
    expect(await rollupTables(t.database, 'c3')).toEqual(recorded);
    expect(await campaignReport(t.database, 'c3', { includeMachine: true })).toEqual(
      await campaignReport(t.database, 'c3', { includeMachine: true, source: 'events' }),
    );
  });

  it('serves the report and its breakdowns over HTTP, as JSON and CSV', async () => {
    const api = await startApi(t);
    try {
      const report = await api.call<{ activities: Figures[] }>('GET', '/api/campaigns/c1/report');
      expect(report.status).toBe(200);
      expect(report.body).toEqual(await campaignReport(t.database, 'c1'));
      const csv = await api.call('GET', '/api/campaigns/c1/report?format=csv&run=r1');
      expect(csv.status).toBe(200);
      expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
      const lines = csv.text.trimEnd().split('\n');
      expect(lines[0]).toMatch(
        /^scope,run,started_at,activity,channel,targeted,excluded,sent,delivered,bounced,/,
      );
      // mail, text, run r1, total.
      expect(lines.map((l) => l.split(',')[0])).toEqual(['scope', 'activity', 'activity', 'run', 'total']);
      const header = lines[0]!.split(',');
      const mail = Object.fromEntries(lines[1]!.split(',').map((v, i) => [header[i]!, v]));
      expect(mail).toMatchObject({
        activity: 'mail',
        targeted: '14',
        excluded: '3',
        unique_opens: '2',
        rate_base: 'delivered',
      });
      const links = await api.call('GET', '/api/campaigns/c1/report/breakdown?by=link&format=csv');
      expect(links.text).toBe(
        'link,url,clicks,unique_clicks,machine_clicks\n0,https://shop.example/0,4,3,1\n1,https://shop.example/1,1,1,0\n',
      );
      const hours = await api.call<{ by: string; rows: unknown[] }>(
        'GET',
        '/api/campaigns/c1/report/breakdown?by=hour',
      );
      expect(hours.body.rows).toHaveLength(2);
      expect((await api.call('GET', '/api/campaigns/nope/report')).status).toBe(404);
      expect((await api.call('GET', '/api/campaigns/c1/report?run=r0')).status).toBe(404);
      expect((await api.call('GET', '/api/campaigns/c1/report?from=yesterday')).status).toBe(400);
      expect((await api.call('GET', '/api/campaigns/c1/report/breakdown?by=subject')).status).toBe(400);
    } finally {
      await api.close();
    }
  });

  it('prints the report from the CLI: a table, --json (the API document) and --csv', async () => {
    const settings = settingsOf(t);
    const asJson = await baton(['report', 'c1', '--json'], settings);
    expect(asJson.code).toBe(0);
    const report = json<{ activities: Array<Figures & { activity: string }> }>(asJson);
    expect(report).toEqual(await campaignReport(t.database, 'c1'));
    expect(report.activities[0]).toMatchObject({
      activity: 'mail',
      targeted: 16,
      excluded: MAIL.excluded,
      sent: 8,
      delivered: 5,
      bounced: 2,
      opens: 5,
      uniqueOpens: 3,
      clicks: 4,
      uniqueClicks: 2,
      unsubscribes: 1,
    });
    const table = await baton(['report', 'c1', '--activity', 'mail'], settings);
    expect(table.code).toBe(0);
    expect(table.stdout).toMatch(
      /^mail \(email\)\s+16\s+4\s+8\s+5\s+2\s+1\s+3\s+4\s+2\s+1\s+1\s+40\.0%\s+66\.7%$/m,
    );
    expect(table.stdout).toMatch(/unsubscribed/);
    const csv = await baton(['report', 'c1', '--csv', '--run', 'r2'], settings);
    expect(csv.stdout.split('\n')[0]).toMatch(/^scope,run,/);
    const missing = await baton(['report', 'nope', '--json'], settings);
    expect(missing.code).toBe(1);
    expect(json<{ error: { message: string } }>(missing).error.message).toMatch(/No campaign nope/);
  });
});
