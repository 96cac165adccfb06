import { beforeAll, expect, it } from 'vitest';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { ValidationError } from '../../src/errors.ts';
import { startRun } from '../../src/engine/run-campaign.ts';
import { transitionRows } from '../../src/engine/run-inspection.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { HARNESS_NOW, HARNESS_ROWS, loadHarness } from '../helpers/expressions.ts';

/**
 * Columns an enrichment adds are fields of the rows for the activities after it: split filters and sorts,
 * deduplication fields and expressions, and later enrichments name them like the table's own columns.
 * Expectations are computed here from the harness rows.
 */
const rows = HARNESS_ROWS.map((r) => ({
  id: r.id as number,
  i: r.i as number | null,
  b: r.b as boolean | null,
}));
const doubled = rows.filter((r) => r.i !== null).map((r) => ({ ...r, double: r.i! * 2 }));

const campaign = {
  id: 'carried',
  name: 'Carried columns',
  activities: {
    all: { type: 'build-audience', dimension: 't' },
    rich: { type: 'enrich', input: 'all', attributes: [{ name: 'double_i', expr: 'i * 2' }] },
    richer: { type: 'enrich', input: 'rich', attributes: [{ name: 'quad_i', expr: 'double_i * 2' }] },
    split: {
      type: 'split',
      input: 'richer',
      segments: [
        { label: 'big', filter: { field: 'double_i', op: 'gt', value: 10 } },
        {
          label: 'top',
          filter: {
            or: [
              { field: 'quad_i', op: 'lt', value: 0 },
              { expr: 'double_i + 0', op: 'eq', value: 0 },
            ],
          },
          limit: { count: 1 },
          sort: [{ field: 'quad_i', order: 'asc' }],
        },
      ],
      complement: true,
    },
    together: {
      type: 'split',
      input: 'all',
      sameTable: true,
      segments: [
        {
          label: 'pos',
          filter: { field: 'i', op: 'gt', value: 0 },
          limit: { count: 2 },
          sort: [{ field: 'i', order: 'desc' }],
        },
        { label: 'neg', filter: { field: 'i', op: 'lt', value: 0 } },
        { label: 'again', filter: { field: 'i', op: 'gt', value: 0 } },
      ],
      complement: true,
    },
    negatives: {
      type: 'split',
      input: 'together',
      segments: [{ label: 'neg', filter: { field: 'segment', op: 'eq', value: 'neg' } }],
    },
    dedup: {
      type: 'deduplicate',
      input: 'rich',
      fields: ['b'],
      method: 'expression',
      expression: 'double_i',
      order: 'max',
    },
  },
};

describeEachDatabase('columns carried by the rows', (t) => {
  beforeAll(async () => {
    await loadHarness(t);
    await saveCampaign(t.database, campaign);
  });

  const ids = async (run: string, transition: string) =>
    (await transitionRows(t.database, run, transition, { limit: 1000, offset: 0 })).rows.map((r) => r.id);

  it('are fields for filters, sorts, deduplication and later enrichments', async () => {
    const { run, finished } = await startRun(t.database, 'carried', { now: HARNESS_NOW });
    expect((await finished).status).toBe('done');
    const big = doubled.filter((r) => r.double > 10).map((r) => r.id);
    expect(await ids(run, 'split.big')).toEqual(big.sort((a, b) => a - b));
    const candidates = doubled.filter((r) => !big.includes(r.id) && (r.double * 2 < 0 || r.double === 0));
    const lowest = candidates.sort((a, b) => a.double - b.double || a.id - b.id)[0]!;
    expect(await ids(run, 'split.top')).toEqual([lowest.id]);
    const quads = (await transitionRows(t.database, run, 'richer', { limit: 1000, offset: 0 })).rows;
    expect(quads.map((r) => [r.id, r.quad_i])).toEqual(
      rows
        .map((r) => [r.id, r.i === null ? null : r.i * 4])
        .sort((a, b) => (a[0] as number) - (b[0] as number)),
    );
    // One row per value of b, the one with the largest double_i (rows without a value first lose).
    const groups = new Map<boolean, typeof rows>();
    for (const r of rows) if (r.b !== null) groups.set(r.b, [...(groups.get(r.b) ?? []), r]);
    const kept = [
      ...rows.filter((r) => r.b === null).map((r) => r.id),
      ...[...groups.values()].map(
        (group) =>
          group.sort(
            (x, y) =>
              (x.i === null ? 1 : 0) - (y.i === null ? 1 : 0) || (y.i ?? 0) - (x.i ?? 0) || x.id - y.id,
          )[0]!.id,
      ),
    ].sort((a, b) => a - b);
    expect(await ids(run, 'dedup')).toEqual(kept);
  });

  it('label each row with its segment when the segments share one table', async () => {
    const { run, finished } = await startRun(t.database, 'carried', { now: HARNESS_NOW });
    const status = await finished;
    const positive = rows.filter((r) => r.i !== null && r.i > 0).sort((a, b) => b.i! - a.i!);
    const labels = new Map<number, string>();
    for (const r of positive.slice(0, 2)) labels.set(r.id, 'pos');
    for (const r of rows) if (r.i !== null && r.i < 0) labels.set(r.id, 'neg');
    for (const r of positive.slice(2)) labels.set(r.id, 'again');
    for (const r of rows) if (!labels.has(r.id)) labels.set(r.id, 'complement');
    const page = await transitionRows(t.database, run, 'together', { limit: 1000, offset: 0 });
    expect(page.columns).toContain('segment');
    expect(page.rows.map((r) => [r.id, r.segment])).toEqual([...labels].sort((a, b) => a[0] - b[0]));
    expect(status.counts.together).toBe(rows.length);
    expect(Object.keys(status.counts).filter((k) => k.startsWith('together'))).toEqual(['together']);
    expect(await ids(run, 'negatives.neg')).toEqual(
      [...labels]
        .filter(([, l]) => l === 'neg')
        .map(([id]) => id)
        .sort((a, b) => a - b),
    );
  });

  it('are checked by name when the campaign is saved', async () => {
    const broken = structuredClone(campaign);
    (broken.activities.split.segments[0]!.filter as { field: string }).field = 'tripple_i';
    broken.activities.dedup.expression = 'quad_i';
    (broken.activities.together as { overlap?: boolean }).overlap = true;
    const error = await saveCampaign(t.database, { ...broken, id: 'carried-broken' }).catch(
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect((error as ValidationError).issues).toEqual([
      {
        path: 'activities.split.segments[0].filter.field',
        message: 't has no column "tripple_i" (nor do its rows carry one: double_i, quad_i)',
      },
      {
        path: 'activities.together.sameTable',
        message:
          'segments that overlap cannot share one table (a row is in it once); turn one of the two off',
      },
      {
        path: 'activities.dedup.expression',
        message: expect.stringContaining('quad_i') as string,
      },
    ]);
  });
});
