import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  archiveCampaign,
  backToDraft,
  closeCampaign,
  completeFinished,
  confirmSend,
  duplicateCampaign,
  publishCampaign,
  purgeArchived,
  setTags,
  stopCampaign,
} from '../../src/campaigns/lifecycle.ts';
import {
  CAMPAIGN_ACTIONS,
  CAMPAIGN_STATUSES,
  refusal,
  type CampaignFacts,
} from '../../src/campaigns/statuses.ts';
import { deleteCampaign, getCampaignSummary, saveCampaign } from '../../src/campaigns/store.ts';
import { ledgerCounts } from '../../src/delivery/queue.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { Engine } from '../../src/engine/engine.ts';
import { runStatus } from '../../src/engine/run-inspection.ts';
import { ConflictError, ValidationError } from '../../src/errors.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { baton } from '../helpers/cli.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { loadDataset } from '../helpers/expressions.ts';
import { startApi } from '../helpers/http.ts';

/**
 * The campaign lifecycle: every action allowed or refused by status (the rules alone), then on each
 * database what the actions do — publishing freezes a version and starts or schedules it, a one-shot
 * send waits for its confirmation, stop cancels what was not sent, back-to-draft only in the two cases,
 * close, archive and purge, duplicate, tags — over the functions, the HTTP API and the CLI.
 */
describe('lifecycle rules', () => {
  const facts = (over: Partial<CampaignFacts>): CampaignFacts => ({
    status: 'draft',
    recurring: false,
    liveRuns: 0,
    completedRuns: 0,
    latestFailed: false,
    ...over,
  });
  // The allowed (status → actions) of a one-shot campaign without runs; everything else is refused.
  const allowed: Record<string, string[]> = {
    draft: ['publish', 'duplicate', 'delete'],
    publishing: ['stop', 'archive', 'duplicate'],
    scheduled: ['back-to-draft', 'stop', 'archive', 'duplicate'],
    live: ['stop', 'archive', 'duplicate'],
    completed: ['archive', 'duplicate'],
    closed: ['archive', 'duplicate'],
    stopped: ['archive', 'duplicate'],
    archived: ['duplicate'],
  };
  it('allows exactly these actions in each status', () => {
    for (const status of CAMPAIGN_STATUSES) {
      const granted = CAMPAIGN_ACTIONS.filter((a) => refusal(a, facts({ status })) === null);
      expect([status, granted]).toEqual([status, allowed[status]]);
    }
  });
  it('closes only recurring campaigns, and back-to-draft follows the runs', () => {
    expect(refusal('close', facts({ status: 'live', recurring: true }))).toBeNull();
    expect(refusal('close', facts({ status: 'scheduled', recurring: true }))).toBeNull();
    expect(refusal('close', facts({ status: 'live' }))).toBe('it is not recurring: stop it instead');
    expect(refusal('back-to-draft', facts({ status: 'scheduled', liveRuns: 1 }))).toMatch(/has run already/);
    expect(refusal('back-to-draft', facts({ status: 'live', liveRuns: 1, latestFailed: true }))).toBeNull();
    expect(
      refusal('back-to-draft', facts({ status: 'live', liveRuns: 2, completedRuns: 1, latestFailed: true })),
    ).toMatch(/failed before any completed/);
  });
});

const SCHEMA = parseSchemaText(`
tables:
  people:
    primaryKey: id
    columns: { id: integer, name: string, email: string, ok: boolean }
    targeting:
      email: { address: email, optIn: ok }
`);
const PEOPLE = [
  { id: 1, name: 'Ann', email: 'ann@example.test', ok: true },
  { id: 2, name: 'Bob', email: 'bob@example.test', ok: true },
  { id: 3, name: 'Cid', email: 'cid@example.test', ok: true },
];
const NOW = new Date('2026-11-20T09:00:00Z');

function campaign(id: string, extra: Record<string, unknown> = {}, mail: Record<string, unknown> = {}) {
  return {
    id,
    name: `Campaign ${id}`,
    ...extra,
    activities: {
      everyone: { type: 'build-audience', dimension: 'people' },
      mail: {
        type: 'email',
        input: 'everyone',
        from: 'shop@example.test',
        subject: 'Hi {{ profile.name }}',
        html: '<p>Hi</p>',
        ...mail,
      },
    },
  };
}

describeEachDatabase('campaign lifecycle', (t) => {
  let engine: Engine;
  const clock = new ManualClock(NOW.getTime());
  beforeAll(async () => {
    await loadDataset(t, SCHEMA, { people: PEOPLE });
    engine = new Engine(t.database, { clock });
  });
  afterAll(() => engine.close());

  const status = async (id: string) => (await getCampaignSummary(t.database, id)).status;

  it('publishes an asap campaign: a version, a live run, a send waiting for its confirmation', async () => {
    await saveCampaign(t.database, campaign('one-shot'));
    const published = await publishCampaign(t.database, engine, 'one-shot', NOW);
    expect(published).toMatchObject({ campaign: 'one-shot', version: 1, status: 'live', nextLaunch: null });
    expect(await status('one-shot')).toBe('live');
    // Published: read-only.
    await expect(saveCampaign(t.database, campaign('one-shot', { name: 'Changed' }))).rejects.toThrow(
      /only drafts can be changed/,
    );
    const taken = await engine.take(published.run!);
    const settled = await taken!.finished;
    expect(settled).toMatchObject({ status: 'waiting', tasks: { mail: 'needs-confirmation' } });
    expect((await ledgerCounts(t.database, published.run!, 'mail')).byStatus).toEqual({});
    await expect(confirmSend(t.database, published.run!, 'everyone')).rejects.toThrow(
      /not waiting for a confirmation/,
    );
    expect(await confirmSend(t.database, published.run!)).toEqual(['mail']);
    const [woken] = await engine.sweep();
    expect(await woken!.finished).toMatchObject({ tasks: { mail: 'waiting' } });
    expect((await ledgerCounts(t.database, published.run!, 'mail')).byStatus).toEqual({ queued: 3 });

    // Stopping cancels what was not sent, and is final: a duplicate runs it again.
    await stopCampaign(t.database, engine, 'one-shot');
    expect(await status('one-shot')).toBe('stopped');
    expect(await ledgerCounts(t.database, published.run!, 'mail')).toMatchObject({
      byStatus: { excluded: 3 },
      excluded: { stopped: 3 },
    });
    expect((await runStatus(t.database, published.run!)).status).toBe('stopped');
    await expect(publishCampaign(t.database, engine, 'one-shot', NOW)).rejects.toThrow(
      'Campaign one-shot cannot publish: it is stopped: only a draft can be published (duplicate it to change it).',
    );
    await expect(deleteCampaign(t.database, 'one-shot')).rejects.toBeInstanceOf(ConflictError);
    const copy = await duplicateCampaign(t.database, 'one-shot');
    expect(copy).toMatchObject({ id: 'one-shot-copy', name: 'Campaign one-shot (copy)', status: 'draft' });
    expect((await duplicateCampaign(t.database, 'one-shot')).id).toBe('one-shot-copy-2');
  });

  it('sends without confirmation when asked, and completes once the run is done', async () => {
    await saveCampaign(t.database, {
      ...campaign('no-confirm'),
      activities: { everyone: { type: 'build-audience', dimension: 'people' } },
    });
    const published = await publishCampaign(t.database, engine, 'no-confirm', NOW);
    expect(await completeFinished(t.database)).not.toContain('no-confirm');
    await (await engine.take(published.run!))!.finished;
    expect(await completeFinished(t.database)).toContain('no-confirm');
    expect(await status('no-confirm')).toBe('completed');

    await saveCampaign(t.database, campaign('direct', {}, { sendWithoutConfirmation: true }));
    const direct = await publishCampaign(t.database, engine, 'direct', NOW);
    const settled = await (await engine.take(direct.run!))!.finished;
    expect(settled.tasks.mail).toBe('waiting');
    expect((await ledgerCounts(t.database, direct.run!, 'mail')).byStatus).toEqual({ queued: 3 });
  });

  it('schedules a dated campaign, goes back to draft before it runs, and refuses a past date', async () => {
    const once = { schedule: { frequency: 'once', at: '2026-12-01T09:00', timezone: 'Europe/Rome' } };
    await saveCampaign(t.database, campaign('dated', once));
    const published = await publishCampaign(t.database, engine, 'dated', NOW);
    expect(published).toEqual({
      campaign: 'dated',
      version: 1,
      status: 'scheduled',
      run: null,
      nextLaunch: '2026-12-01T08:00:00.000Z',
    });
    const schedule = await t.database.db.selectFrom('schedules').selectAll().executeTakeFirstOrThrow();
    expect(Number(schedule.next_at)).toBe(Date.parse('2026-12-01T08:00:00Z'));
    await backToDraft(t.database, 'dated');
    expect(await status('dated')).toBe('draft');
    expect(await t.database.db.selectFrom('schedules').selectAll().execute()).toEqual([]);
    // Published again: version 2.
    expect((await publishCampaign(t.database, engine, 'dated', NOW)).version).toBe(2);

    await saveCampaign(
      t.database,
      campaign('late', { schedule: { ...once.schedule, at: '2026-11-01T09:00' } }),
    );
    const refused = await publishCampaign(t.database, engine, 'late', NOW).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).issues).toEqual([
      {
        path: 'schedule.at',
        message:
          '2026-11-01T09:00 (Europe/Rome) is in the past; choose a later time, or use frequency: asap to start the campaign by hand',
      },
    ]);
    expect(await status('late')).toBe('draft');
  });

  it('goes back to draft from a live campaign whose run failed, not from a closed one', async () => {
    await saveCampaign(t.database, campaign('failing'));
    const published = await publishCampaign(t.database, engine, 'failing', NOW);
    // A run fails: its workspace lost the table it reads.
    await t.database.db
      .updateTable('runs')
      .set({ status: 'failed', error: 'mail: boom', lease_owner: null })
      .where('id', '=', published.run!)
      .execute();
    expect(await completeFinished(t.database)).not.toContain('failing');
    await backToDraft(t.database, 'failing');
    expect(await status('failing')).toBe('draft');

    const daily = { schedule: { frequency: 'daily', at: '08:00', timezone: 'UTC' } };
    await saveCampaign(t.database, campaign('weekly-news', daily));
    await publishCampaign(t.database, engine, 'weekly-news', NOW);
    await expect(closeCampaign(t.database, 'one-shot-copy')).rejects.toThrow(/not recurring|is draft/);
    await closeCampaign(t.database, 'weekly-news');
    expect(await status('weekly-news')).toBe('closed');
    const row = await t.database.db
      .selectFrom('schedules')
      .select('next_at')
      .where('campaign_id', '=', 'weekly-news')
      .executeTakeFirstOrThrow();
    expect(row.next_at).toBeNull();
    await expect(backToDraft(t.database, 'weekly-news')).rejects.toThrow(/it is closed/);
  });

  it('archives (not drafts), purges after 30 days, and edits tags at any status', async () => {
    await expect(archiveCampaign(t.database, 'one-shot-copy')).rejects.toThrow(/it is a draft: delete it/);
    await archiveCampaign(t.database, 'weekly-news', new Date('2026-11-20T10:00:00Z'));
    expect((await setTags(t.database, 'weekly-news', ['news', ' weekly ', 'news'])).tags).toEqual([
      'news',
      'weekly',
    ]);
    expect(await purgeArchived(t.database, new Date('2026-12-19T10:00:00Z'))).toEqual([]);
    expect(await purgeArchived(t.database, new Date('2026-12-20T10:00:01Z'))).toEqual(['weekly-news']);
    await expect(getCampaignSummary(t.database, 'weekly-news')).rejects.toThrow(/No campaign/);
  });

  it('serves the actions over HTTP, with 409 and the reason when refused', async () => {
    await saveCampaign(t.database, campaign('http-one', {}, { sendWithoutConfirmation: true }));
    const api = await startApi(t);
    try {
      const actions = await api.call<{ actions: Record<string, string | null> }>(
        'GET',
        '/api/campaigns/http-one/actions',
      );
      expect(actions.body.actions).toMatchObject({ publish: null, stop: expect.any(String) as string });
      const published = await api.call<{ status: string; version: number; run: string }>(
        'POST',
        '/api/campaigns/http-one/publish',
      );
      expect(published.status).toBe(200);
      expect(published.body).toMatchObject({ status: 'live', version: 1 });
      const again = await api.call<{ error: { message: string } }>('POST', '/api/campaigns/http-one/publish');
      expect(again.status).toBe(409);
      expect(again.body.error.message).toMatch(/it is live: only a draft can be published/);
      const tags = await api.call<{ tags: string[] }>('PUT', '/api/campaigns/http-one/tags', {
        json: { tags: ['vip'] },
      });
      expect(tags.body.tags).toEqual(['vip']);
      const preview = await api.call<{ launches: Array<{ local: string }> }>(
        'POST',
        '/api/schedules/preview',
        {
          json: { schedule: { frequency: 'daily', at: '09:30', timezone: 'Europe/Paris' }, count: 2 },
        },
      );
      expect(preview.body.launches).toHaveLength(2);
      expect(preview.body.launches[0]!.local).toMatch(/T09:30\+01:00$/);
      const dup = await api.call<{ id: string }>('POST', '/api/campaigns/http-one/duplicate', {
        json: { id: 'http-two' },
      });
      expect([dup.status, dup.body.id]).toEqual([201, 'http-two']);
    } finally {
      await api.close();
    }
  });

  it('lists campaigns with filters, their channels, last execution and next launch', async () => {
    const api = await startApi(t);
    try {
      const list = async (query: string) =>
        (await api.call<{ campaigns: Array<Record<string, unknown>> }>('GET', `/api/campaigns${query}`)).body
          .campaigns;
      const dated = (await list('?search=DATED'))[0]!;
      expect(dated).toMatchObject({
        id: 'dated',
        status: 'scheduled',
        channels: ['email'],
        version: 2,
        lastRun: null,
        nextLaunch: '2026-12-01T08:00:00.000Z',
      });
      expect((await list('?search=one-shot')).find((c) => c.id === 'one-shot')).toMatchObject({
        id: 'one-shot',
        lastRun: { status: 'stopped' },
        nextLaunch: null,
      });
      expect((await list('?status=completed')).map((c) => c.id)).toEqual(['no-confirm']);
      // The duplicate keeps the tags of its original.
      expect((await list('?tag=vip')).map((c) => c.id)).toEqual(['http-two', 'http-one']);
      expect((await list('?channel=sms')).map((c) => c.id)).toEqual([]);
      expect((await list('?from=2099-01-01T00:00:00Z')).map((c) => c.id)).toEqual([]);
      expect((await list('?channel=email&from=2020-01-01T00:00:00%2B01:00')).length).toBeGreaterThan(5);
      const bad = await api.call('GET', '/api/campaigns?status=sleeping');
      expect(bad.status).toBe(400);
    } finally {
      await api.close();
    }
  });

  it('publishes from the CLI with --wait, printing the DESIGN.md shape', async () => {
    await saveCampaign(t.database, campaign('cli-one'));
    const settings = { BATON_DATA_DIR: t.config.dataDir, DATABASE_URL: t.config.databaseUrl };
    const published = await baton(['publish', 'cli-one', '--wait', '--json'], settings);
    expect(published.stderr).toBe('');
    const body = JSON.parse(published.stdout) as Record<string, unknown>;
    expect(body).toEqual({
      campaign: 'cli-one',
      version: 1,
      status: 'live',
      run: expect.any(String) as string,
      nextLaunch: null,
    });
    const confirmed = await baton(['confirm', String(body.run), 'mail', '--wait', '--json'], settings);
    expect(JSON.parse(confirmed.stdout)).toMatchObject({ tasks: { mail: 'waiting' } });
    const refused = await baton(['close', 'cli-one'], settings);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('Campaign cli-one cannot close: it is not recurring: stop it instead.');
  });
});
