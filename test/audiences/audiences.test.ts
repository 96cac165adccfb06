import { sql } from 'kysely';
import { beforeAll, expect, it } from 'vitest';
import { deleteAudience, getAudience, listAudiences } from '../../src/audiences/store.ts';
import { saveCampaign, validateCampaign } from '../../src/campaigns/store.ts';
import { ValidationError } from '../../src/errors.ts';
import { findTable } from '../../src/schema/types.ts';
import { purgeOldRuns } from '../../src/engine/retention.ts';
import { startRun } from '../../src/engine/run-campaign.ts';
import { runLogs, transitionRows } from '../../src/engine/run-inspection.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/databases.ts';
import { HARNESS_NOW, HARNESS_ROWS, HARNESS_SCHEMA, loadHarness } from '../helpers/expressions.ts';
import { memoryRuleIds } from '../helpers/rules.ts';

const positive = { field: 'i', op: 'gt', value: 0 };
const flagged = { field: 'b', op: 'eq', value: true };

/** Campaign A: the rows of `rule`, enriched with a column, saved as the audience "vip". */
const saver = (rule: unknown) => ({
  id: 'aud-a',
  name: 'Saves vip',
  activities: {
    pick: { type: 'build-audience', dimension: 't', rule },
    rich: { type: 'enrich', input: 'pick', attributes: [{ name: 'double_i', expr: 'i * 2' }] },
    save: { type: 'save-audience', input: 'rich', audience: 'vip' },
  },
});

/** Campaign B: reads "vip" and splits it on a field of its table. */
const reader = (audience: string, field = 'd') => ({
  id: 'aud-b',
  name: 'Reads vip',
  activities: {
    read: { type: 'read-audience', audience },
    parts: {
      type: 'split',
      input: 'read',
      segments: [{ label: 'up', filter: { field, op: 'gt', value: 0 } }],
      complement: true,
    },
  },
});

/** Member tables, wherever the database keeps them: one per audience, none left behind. */
async function memberTables(t: TestDatabase): Promise<number> {
  const { rows } =
    t.database.kind === 'postgres'
      ? await sql<{ n: string }>`SELECT count(*) AS n FROM information_schema.tables
          WHERE table_schema = 'audiences'`.execute(t.database.db)
      : await sql<{ n: number }>`SELECT count(*) AS n FROM sqlite_master
          WHERE type = 'table' AND name LIKE 'audience\\_%' ESCAPE '\\'`.execute(t.database.db);
  return Number(rows[0]!.n);
}

describeEachDatabase('saved audiences', (t) => {
  beforeAll(async () => {
    await loadHarness(t);
    await saveCampaign(t.database, saver(positive));
    await saveCampaign(t.database, reader('vip'));
  });

  async function run(campaign: string, mode: 'test' | 'live') {
    const { run, finished } = await startRun(t.database, campaign, { mode, now: HARNESS_NOW });
    return { run, status: await finished };
  }

  async function ids(run: string, transition: string): Promise<number[]> {
    const page = await transitionRows(t.database, run, transition, { limit: 1000, offset: 0 });
    return page.rows.map((r) => r.id as number);
  }

  const members = async () =>
    (await getAudience(t.database, 'vip', { limit: 1000, offset: 0 })).rows.map((r) => r.id as number);

  it('is not saved by a test run; a live run saves exactly its population, with its columns', async () => {
    const test = await run('aud-a', 'test');
    expect(test.status.status).toBe('done');
    expect(await listAudiences(t.database)).toEqual([]);
    expect((await runLogs(t.database, test.run)).map((l) => l.message)).toContain(
      'test run: audience "vip" is not saved',
    );

    const expected = memoryRuleIds({ rule: positive });
    const live = await run('aud-a', 'live');
    expect(live.status).toMatchObject({ status: 'done', error: null, mode: 'live' });
    expect(live.status.counts.save).toBe(expected.length);
    expect(await listAudiences(t.database)).toEqual([
      {
        name: 'vip',
        dimension: 't',
        count: expected.length,
        campaign: 'aud-a',
        activity: 'save',
        run: live.run,
        savedAt: expect.any(String) as unknown,
      },
    ]);
    const saved = await getAudience(t.database, 'vip', { limit: 1000, offset: 0 });
    expect(saved.columns).toEqual([
      ...findTable(HARNESS_SCHEMA, 't')!.columns.map((c) => c.name),
      'double_i',
    ]);
    expect(saved.rows.map((r) => [r.id, r.double_i])).toEqual(
      expected.map((id) => [id, (HARNESS_ROWS.find((row) => row.id === id)!.i as number) * 2]),
    );
    // A page of it, as the API shows.
    const page = await getAudience(t.database, 'vip', { limit: 2, offset: 1 });
    expect(page.rows.map((r) => r.id)).toEqual(expected.slice(1, 3));
    expect((await runLogs(t.database, live.run)).map((l) => l.message)).toContain(
      `audience "vip" saved: ${expected.length} rows of t`,
    );
    expect(await memberTables(t)).toBe(1);
  });

  it('is read by another campaign: its rows and saved columns, but not members deleted since', async () => {
    const expected = memoryRuleIds({ rule: positive });
    const first = await run('aud-b', 'test');
    expect(first.status.status).toBe('done');
    expect(await ids(first.run, 'read')).toEqual(expected);
    const read = await transitionRows(t.database, first.run, 'read', { limit: 1000, offset: 0 });
    expect(read.rows.map((r) => r.double_i)).toEqual(
      expected.map((id) => (HARNESS_ROWS.find((row) => row.id === id)!.i as number) * 2),
    );
    const up = expected.filter((id) => (HARNESS_ROWS.find((row) => row.id === id)!.d as number) > 0);
    expect(await ids(first.run, 'parts.up')).toEqual(up);
    expect(first.status.counts).toMatchObject({
      read: expected.length,
      'parts.up': up.length,
      'parts.complement': expected.length - up.length,
    });

    const gone = expected[0]!;
    await sql`DELETE FROM ${t.database.dialect.dataTableRef('t')} WHERE id = ${gone}`.execute(t.database.db);
    try {
      const second = await run('aud-b', 'test');
      expect(await ids(second.run, 'read')).toEqual(expected.slice(1));
      expect(second.status.counts.read).toBe(expected.length - 1);
      expect((await runLogs(t.database, second.run)).map((l) => l.message)).toContain(
        `${expected.length - 1} rows of audience "vip" (saved ${(await listAudiences(t.database))[0]!.savedAt} by aud-a); 1 saved rows are no longer in t`,
      );
    } finally {
      await loadHarness(t);
    }
  });

  it('is overwritten whole by the next live run, and the previous members table is dropped', async () => {
    await saveCampaign(t.database, saver(flagged));
    const live = await run('aud-a', 'live');
    expect(live.status.status).toBe('done');
    const expected = memoryRuleIds({ rule: flagged });
    expect(expected).not.toEqual(memoryRuleIds({ rule: positive }));
    expect(await members()).toEqual(expected);
    expect(await listAudiences(t.database)).toMatchObject([
      { name: 'vip', count: expected.length, run: live.run },
    ]);
    expect(await memberTables(t)).toBe(1);
    const read = await run('aud-b', 'test');
    expect(await ids(read.run, 'read')).toEqual(expected);
  });

  it('refuses a save by another campaign under the same name, naming the owner, and changes nothing', async () => {
    await saveCampaign(t.database, {
      id: 'aud-c',
      name: 'Wants vip too',
      activities: {
        all: { type: 'build-audience', dimension: 't' },
        save: { type: 'save-audience', input: 'all', audience: 'vip' },
      },
    });
    const before = await listAudiences(t.database);
    const { status } = await run('aud-c', 'live');
    expect(status.status).toBe('failed');
    expect(status.error).toMatch(/^save: The audience "vip" belongs to campaign aud-a \(its activity save\)/);
    expect(await listAudiences(t.database)).toEqual(before);
    expect(await members()).toEqual(memoryRuleIds({ rule: flagged }));
    expect(await memberTables(t)).toBe(1);
    // Its test runs do not save, so they are not refused.
    expect((await run('aud-c', 'test')).status.status).toBe('done');
    // The name is the activity's, not the campaign's: another activity of aud-a is refused too.
    const own = saver(flagged);
    await saveCampaign(t.database, {
      ...own,
      activities: { ...own.activities, again: { type: 'save-audience', input: 'pick', audience: 'vip' } },
    });
    const twice = await run('aud-a', 'live');
    expect(twice.status.error).toMatch(
      /^again: The audience "vip" belongs to campaign aud-a \(its activity save\)/,
    );
    await saveCampaign(t.database, own);
    expect(await members()).toEqual(memoryRuleIds({ rule: flagged }));
    expect(await memberTables(t)).toBe(1);
  });

  it('gives read-audience its table at validation once the audience is saved', async () => {
    const population = async (document: unknown) =>
      (await validateCampaign(t.database, document)).activities.find((a) => a.id === 'read')!.population;
    // Not saved yet: it may be by a run before this one, so it is not an issue, and its fields are unchecked.
    expect(await population(reader('later', 'nope'))).toEqual({ kind: 'unknown' });
    expect(await population(reader('vip'))).toMatchObject({ kind: 'dimension', table: { name: 't' } });
    const refused = await validateCampaign(t.database, reader('vip', 'nope')).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ValidationError);
    expect((refused as ValidationError).issues.map((i) => i.path)).toEqual([
      'activities.parts.segments[0].filter.field',
    ]);
  });

  it('survives the run retention that drops the runs’ working tables', async () => {
    const { run: saved } = (await listAudiences(t.database))[0]!;
    const purged = await purgeOldRuns(t.database, { days: 5, now: Date.now() + 30 * 86_400_000 });
    expect(purged).toContain(saved);
    expect(await members()).toEqual(memoryRuleIds({ rule: flagged }));
    const read = await run('aud-b', 'test');
    expect(await ids(read.run, 'read')).toEqual(memoryRuleIds({ rule: flagged }));
  });

  it('is deleted with its members, freeing its name', async () => {
    await deleteAudience(t.database, 'vip');
    expect(await listAudiences(t.database)).toEqual([]);
    expect(await memberTables(t)).toBe(0);
    const { status } = await run('aud-c', 'live');
    expect(status.status).toBe('done');
    expect(await listAudiences(t.database)).toMatchObject([{ name: 'vip', campaign: 'aud-c' }]);
  });
});
