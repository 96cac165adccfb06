import { sql } from 'kysely';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { publishCampaign } from '../../src/campaigns/lifecycle.ts';
import { Scheduler } from '../../src/campaigns/scheduler.ts';
import { getCampaignSummary, saveCampaign } from '../../src/campaigns/store.ts';
import { TooManyTriggers, triggerCampaign } from '../../src/campaigns/triggers.ts';
import { openDatabase } from '../../src/db/database.ts';
import { messageId } from '../../src/delivery/message-id.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { Engine } from '../../src/engine/engine.ts';
import { ValidationError } from '../../src/errors.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { loadDataset } from '../helpers/expressions.ts';
import { startApi } from '../helpers/http.ts';

/**
 * The scheduler with a manual clock: scheduled launches at their slot and once only (two schedulers
 * ticking the same slot make one run), the missed-launch policy after downtime, completion of a `once`,
 * signal campaigns triggered with typed parameters at most once an hour (HTTP answers 429) and by other
 * campaigns' end activities, and on PostgreSQL one leader at a time.
 */
const SCHEMA = parseSchemaText(`
tables:
  people:
    primaryKey: id
    columns: { id: integer, name: string }
`);
const PUBLISHED = new Date('2026-11-20T09:00:00Z');
const HOUR = 3_600_000;

function campaign(id: string, schedule: Record<string, unknown>) {
  return {
    id,
    name: id,
    schedule,
    activities: { everyone: { type: 'build-audience', dimension: 'people' } },
  };
}

describeEachDatabase('scheduler', (t) => {
  const clock = new ManualClock(PUBLISHED.getTime());
  let engine: Engine;
  let scheduler: Scheduler;
  beforeAll(async () => {
    await loadDataset(t, SCHEMA, { people: [{ id: 1, name: 'Ann' }] });
    engine = new Engine(t.database, { clock });
    scheduler = new Scheduler(t.database, engine, { clock });
  });
  afterAll(() => engine.close());

  const runsOf = async (id: string) =>
    (
      await t.database.db
        .selectFrom('runs')
        .select(['id', 'trigger', 'now_ms', 'variables', 'status'])
        .where('campaign_id', '=', id)
        .orderBy('now_ms')
        .execute()
    ).map((r) => ({ ...r, now_ms: new Date(Number(r.now_ms)).toISOString() }));

  it('launches a daily campaign at its slot, once, even with two schedulers ticking', async () => {
    await saveCampaign(
      t.database,
      campaign('daily', { frequency: 'daily', at: '10:00', timezone: 'Europe/Paris' }),
    );
    const published = await publishCampaign(t.database, engine, 'daily', PUBLISHED);
    expect(published.nextLaunch).toBe('2026-11-21T09:00:00.000Z');
    expect((await scheduler.tick()).launched).toEqual([]);
    clock.set(Date.parse('2026-11-21T09:00:05Z'));
    const second = new Scheduler(t.database, engine, { clock });
    const [a, b] = await Promise.all([scheduler.tick(), second.tick()]);
    const launched = [...a.launched, ...b.launched];
    const id = messageId('schedule/daily/1/2026-11-21T09:00:00.000Z');
    expect(launched).toEqual([{ campaign: 'daily', run: id, slot: '2026-11-21T09:00:00.000Z' }]);
    expect(await runsOf('daily')).toEqual([
      expect.objectContaining({
        id,
        trigger: 'schedule',
        now_ms: '2026-11-21T09:00:00.000Z',
        status: 'queued',
      }),
    ]);
    expect((await getCampaignSummary(t.database, 'daily')).status).toBe('live');
    expect((await scheduler.tick()).launched).toEqual([]);
    const row = await t.database.db
      .selectFrom('schedules')
      .select('next_at')
      .where('campaign_id', '=', 'daily')
      .executeTakeFirstOrThrow();
    expect(new Date(Number(row.next_at)).toISOString()).toBe('2026-11-22T09:00:00.000Z');
  });

  it('after downtime, catches up the latest slot within the grace period and skips the rest', async () => {
    // Down from the 21st to the 24th at 09:30: the 22nd and 23rd are skipped, the 24th (30 min late) runs.
    clock.set(Date.parse('2026-11-24T09:30:00Z'));
    const result = await scheduler.tick();
    expect(result.skipped).toEqual([
      { campaign: 'daily', slot: '2026-11-22T09:00:00.000Z' },
      { campaign: 'daily', slot: '2026-11-23T09:00:00.000Z' },
    ]);
    expect(result.launched.map((l) => l.slot)).toEqual(['2026-11-24T09:00:00.000Z']);
    // Down until 3 hours after the next slot: beyond the grace period, nothing is launched.
    clock.set(Date.parse('2026-11-25T12:00:00Z'));
    const late = await scheduler.tick();
    expect(late.launched).toEqual([]);
    expect(late.skipped).toEqual([{ campaign: 'daily', slot: '2026-11-25T09:00:00.000Z' }]);
  });

  it('completes a once campaign after its run is done', async () => {
    clock.set(PUBLISHED.getTime());
    await saveCampaign(
      t.database,
      campaign('dated', { frequency: 'once', at: '2026-11-20T12:00', timezone: 'UTC' }),
    );
    await publishCampaign(t.database, engine, 'dated', PUBLISHED);
    clock.set(PUBLISHED.getTime() + 3 * HOUR + 1000);
    const [launch] = (await scheduler.tick()).launched.filter((l) => l.campaign === 'dated');
    expect((await getCampaignSummary(t.database, 'dated')).status).toBe('live');
    await (await engine.take(launch!.run))!.finished;
    expect((await scheduler.tick()).completed).toContain('dated');
    expect((await getCampaignSummary(t.database, 'dated')).status).toBe('completed');
  });

  it('triggers a signal campaign with typed parameters, once an hour, and from end activities', async () => {
    clock.set(PUBLISHED.getTime());
    await saveCampaign(
      t.database,
      campaign('on-signal', {
        frequency: 'signal',
        parameters: [
          { name: 'store', type: 'integer', required: true },
          { name: 'reason', type: 'string', default: 'restock' },
        ],
      }),
    );
    await publishCampaign(t.database, engine, 'on-signal', PUBLISHED);
    const bad = await triggerCampaign(
      t.database,
      engine,
      'on-signal',
      { store: 'x', extra: 1 },
      PUBLISHED,
    ).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(ValidationError);
    expect((bad as ValidationError).issues).toEqual([
      { path: 'parameters.extra', message: 'not a parameter of this campaign (declared: store, reason)' },
      { path: 'parameters.store', message: 'expected a whole number (integer)' },
    ]);
    const run = await triggerCampaign(t.database, engine, 'on-signal', { store: 12 }, PUBLISHED);
    expect(await runsOf('on-signal')).toEqual([
      expect.objectContaining({ id: run, trigger: 'signal', variables: '{"store":12,"reason":"restock"}' }),
    ]);
    await expect(
      triggerCampaign(
        t.database,
        engine,
        'on-signal',
        { store: 13 },
        new Date(PUBLISHED.getTime() + HOUR - 1000),
      ),
    ).rejects.toBeInstanceOf(TooManyTriggers);

    // An end activity's signal waits for the hour, then starts a run with its parameters.
    await t.database.db
      .insertInto('campaign_signals')
      .values({
        campaign_id: 'on-signal',
        parameters: JSON.stringify({ store: 99 }),
        source_run: 'r',
        source_activity: 'end',
        created_at: PUBLISHED.toISOString(),
        consumed_at: null,
        outcome: null,
      })
      .execute();
    clock.set(PUBLISHED.getTime() + HOUR / 2);
    expect((await scheduler.tick()).triggered).toEqual([]);
    clock.set(PUBLISHED.getTime() + HOUR + 1000);
    const [fromSignal] = (await scheduler.tick()).triggered;
    const signal = await t.database.db.selectFrom('campaign_signals').selectAll().executeTakeFirstOrThrow();
    expect(signal.outcome).toBe(`run ${fromSignal}`);
    expect((await runsOf('on-signal')).map((r) => r.variables)).toEqual([
      '{"store":12,"reason":"restock"}',
      '{"store":99,"reason":"restock"}',
    ]);
  });

  it("makes a signal's parameters the run's variables: rules' params and test conditions read them", async () => {
    await loadDataset(t, SCHEMA, {
      people: [
        { id: 1, name: 'Ann' },
        { id: 2, name: 'Bob' },
        { id: 3, name: 'Cid' },
      ],
    });
    await saveCampaign(t.database, {
      id: 'by-person',
      name: 'By person',
      schedule: {
        frequency: 'signal',
        parameters: [
          { name: 'person', type: 'integer', required: true, testValue: 2 },
          { name: 'big', type: 'boolean', default: false },
        ],
      },
      activities: {
        chosen: {
          type: 'build-audience',
          dimension: 'people',
          rule: { field: 'id', op: 'gte', value: { param: 'person' } },
        },
        check: {
          type: 'test',
          input: 'chosen',
          conditions: [{ label: 'big', when: 'vars.big AND vars.recCount > 1' }],
        },
      },
    });
    // A test run uses the test values (person 2) and the defaults (big false).
    const test = await engine.start('by-person');
    expect(await test.finished).toMatchObject({ counts: { chosen: 2, 'check.default': 2 } });
    await publishCampaign(t.database, engine, 'by-person', PUBLISHED);
    const run = await triggerCampaign(t.database, engine, 'by-person', { person: 1, big: true }, PUBLISHED);
    const live = await engine.take(run);
    expect(await live!.finished).toMatchObject({ counts: { chosen: 3, 'check.big': 3 } });
  });

  it('answers a trigger over HTTP with 202, then 429 with Retry-After within the hour', async () => {
    await saveCampaign(t.database, campaign('http-signal', { frequency: 'signal' }));
    await publishCampaign(t.database, engine, 'http-signal', new Date());
    const api = await startApi(t);
    try {
      const first = await api.call<{ run: string }>('POST', '/api/campaigns/http-signal/trigger', {
        json: {},
      });
      expect(first.status).toBe(202);
      const refused = await api.call<{ error: { message: string } }>(
        'POST',
        '/api/campaigns/http-signal/trigger',
        {
          json: {},
        },
      );
      expect(refused.status).toBe(429);
      expect(Number(refused.headers.get('retry-after'))).toBeGreaterThan(3500);
      expect(refused.body.error.message).toMatch(
        /triggered less than an hour ago: it can be triggered again at/,
      );
      const notSignal = await api.call('POST', '/api/campaigns/daily/trigger', { json: {} });
      expect(notSignal.status).toBe(409);
    } finally {
      await api.close();
    }
  });

  it('leads from one process at a time on PostgreSQL', async (context) => {
    // SQLite has no advisory locks: there every process ticks, and slot-derived run ids keep launches single.
    if (t.database.kind !== 'postgres') context.skip();
    const other = await openDatabase(t.config, { migrate: false, readInWorker: false });
    try {
      // Another process holds the lock for the length of its tick: this one does nothing meanwhile.
      await other.db.transaction().execute(async (trx) => {
        await sql`SELECT pg_advisory_xact_lock(${0x6261746f6e})`.execute(trx);
        expect((await scheduler.tick()).leader).toBe(false);
      });
      expect((await scheduler.tick()).leader).toBe(true);
    } finally {
      await other.close();
    }
  });
});
