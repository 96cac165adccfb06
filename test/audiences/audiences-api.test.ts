import { afterAll, beforeAll, expect, it } from 'vitest';
import { listAudiences, type AudienceSummary } from '../../src/audiences/store.ts';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { startRun } from '../../src/engine/run-campaign.ts';
import type { Issue } from '../../src/errors.ts';
import { baton, json, settingsOf } from '../helpers/cli.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { HARNESS_NOW, HARNESS_ROWS, loadHarness } from '../helpers/expressions.ts';
import { startApi } from '../helpers/http.ts';
import { memoryRuleIds } from '../helpers/rules.ts';

interface ErrorBody {
  error: { message: string; issues: Issue[] };
}

type AudiencePage = AudienceSummary & { columns: string[]; rows: Array<Record<string, unknown>> };

const positive = { field: 'i', op: 'gt', value: 0 };

describeEachDatabase('saved audiences over HTTP and the CLI', (t) => {
  let api: Awaited<ReturnType<typeof startApi>>;
  let run = '';
  beforeAll(async () => {
    await loadHarness(t);
    await saveCampaign(t.database, {
      id: 'keeper',
      name: 'Keeper',
      activities: {
        pick: { type: 'build-audience', dimension: 't', rule: positive },
        save: { type: 'save-audience', input: 'pick', audience: 'kept' },
      },
    });
    const started = await startRun(t.database, 'keeper', { mode: 'live', now: HARNESS_NOW });
    run = started.run;
    expect((await started.finished).status).toBe('done');
    api = await startApi(t);
  });
  afterAll(async () => {
    await api?.close();
  });

  const expected = memoryRuleIds({ rule: positive });

  it('lists the audiences, and shows one with a page of its rows', async () => {
    const list = await api.call<{ audiences: AudienceSummary[] }>('GET', '/api/audiences');
    expect(list.status).toBe(200);
    expect(list.body.audiences).toEqual([
      {
        name: 'kept',
        dimension: 't',
        count: expected.length,
        campaign: 'keeper',
        activity: 'save',
        run,
        savedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/) as unknown,
      },
    ]);
    const page = await api.call<AudiencePage>('GET', '/api/audiences/kept?limit=2&offset=1');
    expect(page.status).toBe(200);
    expect(page.body).toMatchObject({ name: 'kept', count: expected.length, campaign: 'keeper' });
    expect(page.body.columns).toEqual(Object.keys(HARNESS_ROWS[0]!));
    expect(page.body.rows).toEqual(
      expected.slice(1, 3).map((id) => {
        const row = HARNESS_ROWS.find((r) => r.id === id)!;
        return expect.objectContaining({ id, s: row.s, i: row.i, b: row.b }) as unknown;
      }),
    );
    expect((await api.call<ErrorBody>('GET', '/api/audiences/kept?limit=0')).status).toBe(400);
    const missing = await api.call<ErrorBody>('GET', '/api/audiences/nobody');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toMatch(/^No audience named "nobody"; it is created when a live run/);
  });

  it('lists them on the command line, as JSON for scripts', async () => {
    const listed = await baton(['audiences', '--json'], settingsOf(t));
    expect(listed.code).toBe(0);
    expect(json<{ audiences: AudienceSummary[] }>(listed)).toEqual({
      audiences: await listAudiences(t.database),
    });
    const human = await baton(['audiences'], settingsOf(t));
    expect(human.stdout).toMatch(/^1 saved audiences:\n {2}kept +4 t +keeper\/save, saved /);
  });

  it('deletes one with its rows, over HTTP and on the command line', async () => {
    expect((await api.call('DELETE', '/api/audiences/kept')).status).toBe(204);
    expect((await api.call<ErrorBody>('DELETE', '/api/audiences/kept')).status).toBe(404);
    expect(await listAudiences(t.database)).toEqual([]);

    // Saved again by the next live run, then deleted from the command line.
    const again = await startRun(t.database, 'keeper', { mode: 'live', now: HARNESS_NOW });
    expect((await again.finished).status).toBe('done');
    const deleted = await baton(['audiences', 'delete', 'kept', '--json'], settingsOf(t));
    expect([deleted.code, json(deleted)]).toEqual([0, { deleted: 'kept' }]);
    expect(await listAudiences(t.database)).toEqual([]);
    const refused = await baton(['audiences', 'delete', 'kept'], settingsOf(t));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^error: No audience named "kept"/);
  });
});
