import { beforeAll, expect, it } from 'vitest';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { sql } from 'kysely';
import { purgeOldRuns } from '../../src/engine/retention.ts';
import { startRun } from '../../src/engine/run-campaign.ts';
import { runLogs, runStatus, transitionRows } from '../../src/engine/run-inspection.ts';
import { workingTableRef } from '../../src/engine/working-tables.ts';
import { sqlParam } from '../../src/rules/sql-values.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { HARNESS_NOW, loadHarness } from '../helpers/expressions.ts';
import { memoryRuleIds } from '../helpers/rules.ts';

const audience = (rule: unknown) => ({ type: 'build-audience', dimension: 't', rule });
const positive = { field: 'i', op: 'gt', value: 0 };
const flagged = { field: 'b', op: 'eq', value: true };

const campaign = {
  id: 'engine-test',
  name: 'Engine test',
  activities: {
    a: audience(positive),
    b: audience(flagged),
    union: { type: 'combine', mode: 'union', inputs: ['a', 'b'] },
    both: { type: 'combine', mode: 'intersection', inputs: ['a', 'b'] },
    only: { type: 'combine', mode: 'exclusion', inputs: ['b', 'a'], primary: 'a', complement: true },
    split: {
      type: 'split',
      input: 'union',
      segments: [
        {
          label: 'top',
          filter: { field: 'd', op: 'gt', value: 0 },
          limit: { count: 2 },
          sort: [{ field: 'd', order: 'desc' }],
        },
        { label: 'half', limit: { percent: 50 } },
        { label: 'none', filter: { field: 's', op: 'eq', value: 'nobody' }, skipEmpty: true },
      ],
      complement: true,
    },
    dedup: {
      type: 'deduplicate',
      input: 'union',
      fields: ['b'],
      method: 'values',
      field: 's',
      values: ['john.DOE@Example.COM'],
      complement: true,
    },
    fork: { type: 'fork', input: 'split.top', branches: ['one', 'two'] },
    end: { type: 'end', input: 'fork.one' },
    'after-none': { type: 'end', input: 'split.none' },
    empty: { ...audience({ field: 's', op: 'eq', value: 'nobody' }), fireWhenEmpty: false },
    'after-empty': { type: 'end', input: 'empty' },
    off: { type: 'end', input: 'fork.two', disabled: true },
    rich: {
      type: 'enrich',
      input: 'union',
      attributes: [{ name: 'double_i', expr: 'i * 2' }],
      collections: [
        {
          name: 'alpha',
          link: 'items',
          filter: { field: 'label', op: 'eq', value: 'alpha' },
          aggregates: [
            { name: 'alpha_sum', fn: 'sum', of: 'amount' },
            { name: 'alpha_count', fn: 'count' },
          ],
        },
      ],
    },
    'rich-top': {
      type: 'split',
      input: 'rich',
      segments: [{ label: 'top', limit: { count: 2 }, sort: [{ field: 'i', order: 'desc' }] }],
      complement: true,
    },
  },
};

describeEachDatabase('test runs', (t) => {
  beforeAll(async () => {
    await loadHarness(t);
    await saveCampaign(t.database, campaign);
  });

  async function ids(run: string, transition: string): Promise<number[]> {
    const page = await transitionRows(t.database, run, transition, { limit: 1000, offset: 0 });
    return page.rows.map((r) => r.id as number);
  }

  it('runs every activity and records the exact rows on every transition', async () => {
    const { run, finished } = await startRun(t.database, 'engine-test', { now: HARNESS_NOW });
    const status = await finished;
    expect(status).toMatchObject({ status: 'done', error: null, mode: 'test' });
    const a = memoryRuleIds({ rule: positive });
    const b = memoryRuleIds({ rule: flagged });
    expect(await ids(run, 'a')).toEqual(a);
    expect(await ids(run, 'b')).toEqual(b);
    expect(await ids(run, 'union')).toEqual([...new Set([...a, ...b])].sort((x, y) => x - y));
    expect(await ids(run, 'both')).toEqual(a.filter((id) => b.includes(id)));
    expect(await ids(run, 'only')).toEqual(a.filter((id) => !b.includes(id)));
    expect(await ids(run, 'only.complement')).toEqual(b);
    // Split of the union [1, 4, 5, 6, 8]: the two largest d, then half of the rest (1.5 rounds to 2), in key order.
    expect(await ids(run, 'split.top')).toEqual([6, 8]);
    expect(await ids(run, 'split.half')).toEqual([1, 4]);
    expect(await ids(run, 'split.complement')).toEqual([5]);
    expect(status.counts['split.none']).toBe(0);
    // One row per value of b, preferring the listed s; the row with an empty b is nobody's duplicate.
    expect(await ids(run, 'dedup')).toEqual([5, 6, 8]);
    expect(await ids(run, 'dedup.complement')).toEqual([1, 4]);
    expect(await ids(run, 'fork.one')).toEqual([6, 8]);
    expect(status.counts).toMatchObject({ 'fork.two': 2, empty: 0 });
    expect(status.tasks).toMatchObject({
      end: 'done',
      'after-none': 'skipped',
      'after-empty': 'skipped',
      off: 'skipped',
      split: 'done',
    });
    // Enrichment adds columns, and the activities after it carry them on.
    const rich = await transitionRows(t.database, run, 'rich', { limit: 100, offset: 0 });
    expect(rich.columns.slice(-3)).toEqual(['double_i', 'alpha_sum', 'alpha_count']);
    expect(rich.schema.slice(0, 1)).toEqual([{ name: 'id', type: 'integer', carried: false }]);
    expect(rich.schema.slice(-3)).toEqual([
      { name: 'double_i', type: 'integer', carried: true },
      { name: 'alpha_sum', type: 'decimal', carried: true },
      { name: 'alpha_count', type: 'integer', carried: true },
    ]);
    expect(rich.rows.map((r) => [r.id, r.double_i, r.alpha_sum, r.alpha_count])).toEqual([
      [1, 84, 10.1, 1],
      [4, -34, 0.2, 1],
      [5, 18014398509480, 0, 0],
      [6, 14, 0, 0],
      [8, 200, 0, 0],
    ]);
    const top = await transitionRows(t.database, run, 'rich-top.top', { limit: 100, offset: 0 });
    expect(top.rows.map((r) => [r.id, r.double_i, r.alpha_count])).toEqual([
      [5, 18014398509480, 0],
      [8, 200, 0],
    ]);
    expect(
      (await transitionRows(t.database, run, 'rich-top.complement', { limit: 100, offset: 0 })).rows.map(
        (r) => r.alpha_sum,
      ),
    ).toEqual([10.1, 0.2, 0]);
    const logs = await runLogs(t.database, run);
    expect(logs.some((l) => l.activity === 'after-empty' && l.message.includes('did not fire'))).toBe(true);
    expect(logs.some((l) => l.activity === 'off' && l.message.startsWith('disabled'))).toBe(true);
  });

  it('fails the run on an activity that fails, naming it, and keeps what ran before', async () => {
    await saveCampaign(t.database, {
      id: 'engine-fail',
      name: 'Fails',
      activities: {
        a: audience(positive),
        more: { type: 'read-audience', audience: 'vip' },
        end: { type: 'end', input: 'more' },
      },
    });
    const { run, finished } = await startRun(t.database, 'engine-fail', { now: HARNESS_NOW });
    const status = await finished;
    expect(status.status).toBe('failed');
    // No audience "vip" was saved: reading it fails.
    expect(status.error).toMatch(/^more: No audience named "vip"/);
    expect(status.tasks).toEqual({ a: 'done', more: 'failed', end: 'pending' });
    expect(await ids(run, 'a')).toEqual(memoryRuleIds({ rule: positive }));
  });

  it('joins, alerts, passes waits in test runs, and takes the first test branch that holds', async () => {
    await saveCampaign(t.database, {
      id: 'engine-flow',
      name: 'Flow',
      activities: {
        a: audience(positive),
        b: audience(flagged),
        join: { type: 'and-join', inputs: ['a', 'b'], primary: 'b' },
        note: { type: 'alert', input: 'join', title: 'Joined', level: 'warning' },
        later: { type: 'wait', input: 'note', duration: { hours: 1 } },
        choose: {
          type: 'test',
          input: 'later',
          conditions: [
            { label: 'big', when: 'vars.recCount > 10' },
            { label: 'some', when: '$(vars/@recCount) >= 1 AND GetDate() > #2020-01-01#' },
          ],
        },
        'end-big': { type: 'end', input: 'choose.big' },
        'end-some': { type: 'end', input: 'choose.some' },
        'end-default': { type: 'end', input: 'choose.default' },
      },
    });
    const { run, finished } = await startRun(t.database, 'engine-flow', { now: HARNESS_NOW });
    const status = await finished;
    expect(status.status).toBe('done');
    expect(await ids(run, 'join')).toEqual(memoryRuleIds({ rule: flagged }));
    expect(status.counts).toMatchObject({ later: 3, 'choose.some': 3 });
    expect(status.counts['choose.big']).toBeUndefined();
    expect(status.tasks).toMatchObject({
      'end-big': 'skipped',
      'end-some': 'done',
      'end-default': 'skipped',
    });
    const messages = (await runLogs(t.database, run)).map((l) => `${l.activity}: ${l.message}`);
    expect(messages).toContain('note: alert (warning): Joined');
    expect(messages).toContain(
      'choose: branch some: $(vars/@recCount) >= 1 AND GetDate() > #2020-01-01# holds for 3 rows',
    );
  });

  it('drops working tables after the retention, keeping counts and logs', async () => {
    const { run, finished } = await startRun(t.database, 'engine-test', { now: HARNESS_NOW });
    const status = await finished;
    const finishedAt = Date.parse(status.finishedAt!);
    expect(await purgeOldRuns(t.database, { days: 5, now: finishedAt + 4 * 86_400_000 })).not.toContain(run);
    expect(
      (await transitionRows(t.database, run, 'a', { limit: 10, offset: 0 })).rows.length,
    ).toBeGreaterThan(0);
    expect(await purgeOldRuns(t.database, { days: 5, now: finishedAt + 6 * 86_400_000 })).toContain(run);
    await expect(transitionRows(t.database, run, 'a', { limit: 10, offset: 0 })).rejects.toMatchObject({
      status: 410,
    });
    expect((await runStatus(t.database, run)).counts).toEqual(status.counts);
    const tables = await t.database.db
      .selectFrom('run_transitions')
      .select('working_table')
      .where('run_id', '=', run)
      .execute();
    for (const { working_table } of tables) {
      await expect(
        sql`SELECT 1 FROM ${workingTableRef(t.database, working_table)}`.execute(t.database.db),
      ).rejects.toThrow();
    }
    // A purged run is not purged again.
    expect(await purgeOldRuns(t.database, { days: 5, now: finishedAt + 7 * 86_400_000 })).not.toContain(run);
  });

  it('changes dimension through links, keeping the rows the links find nothing for', async () => {
    await saveCampaign(t.database, {
      id: 'engine-dimension',
      name: 'Dimension',
      activities: {
        all: audience({ and: [] }),
        stores: { type: 'change-dimension', input: 'all', via: 'ref' },
        bought: { type: 'change-dimension', input: 'all', via: 'items' },
        'stores-only': { type: 'change-dimension', input: 'all', via: 'ref', keepUnmatched: false },
      },
    });
    const { run, finished } = await startRun(t.database, 'engine-dimension', { now: HARNESS_NOW });
    const status = await finished;
    expect(status.status).toBe('done');
    // Many-to-one: each store once; rows 3 (no store) and 5 (store 99, absent) are unmatched.
    expect(await ids(run, 'stores')).toEqual([1, 2, 3]);
    expect(await ids(run, 'stores.unmatched')).toEqual([3, 5]);
    // One-to-many: every item of the rows; rows without items are unmatched.
    expect(await ids(run, 'bought')).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(await ids(run, 'bought.unmatched')).toEqual([3, 5, 7]);
    expect(status.counts['stores-only.unmatched']).toBeUndefined();
    const rows = await transitionRows(t.database, run, 'stores', { limit: 10, offset: 0 });
    expect(rows.columns).toEqual(['id', 'name', 'region']);
  });

  it('returns only rows newer than the last run in an incremental query, across three runs', async () => {
    await saveCampaign(t.database, {
      id: 'engine-incremental',
      name: 'Incremental',
      activities: {
        fresh: {
          type: 'incremental-query',
          dimension: 'items',
          since: 'at',
          rule: { field: 'qty', op: 'isNotEmpty' },
        },
      },
    });
    const runOnce = async () => {
      const { run, finished } = await startRun(t.database, 'engine-incremental', { now: HARNESS_NOW });
      expect((await finished).status).toBe('done');
      return ids(run, 'fresh');
    };
    // Items with a date and a quantity: the first run returns them all, the second nothing new.
    expect(await runOnce()).toEqual([1, 2, 4, 6, 7, 8]);
    expect(await runOnce()).toEqual([]);
    await sql`INSERT INTO ${t.database.dialect.dataTableRef('items')} (id, t_id, amount, qty, at, label)
      VALUES (9, 1, 1.5, 2, ${sqlParam(t.database.kind, Date.parse('2026-11-29T08:00:00Z'), 'datetime')}, 'new'),
             (10, 1, 1.5, 2, ${sqlParam(t.database.kind, Date.parse('2020-01-01T00:00:00Z'), 'datetime')}, 'old')`.execute(
      t.database.db,
    );
    expect(await runOnce()).toEqual([9]);
    const marks = await t.database.db
      .selectFrom('incremental_marks')
      .selectAll()
      .where('campaign_id', '=', 'engine-incremental')
      .execute();
    expect(marks.map((m) => [m.activity, m.mode, Number(m.mark_ms)])).toEqual([
      ['fresh', 'test', Date.parse('2026-11-29T08:00:00Z')],
    ]);
  });
});
