import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../helpers/databases.ts';
import { runCampaign } from '../helpers/runs.ts';
import { HARNESS_ROWS, loadHarness } from '../helpers/expressions.ts';

/**
 * Split and deduplicate, option by option, on the harness rows of t. Expectations are computed here from
 * HARNESS_ROWS: ids 1–8, i = 42, 0, ∅, -17, 9007199254740, 7, -1, 100; b = T, F, ∅, T, F, T, F, ∅;
 * s empty on row 2 (and missing on 3).
 */
const rows = HARNESS_ROWS.map((r) => ({
  id: r.id as number,
  i: r.i as number | null,
  b: r.b as boolean | null,
  s: r.s as string | null,
}));
const ids = (keep: (r: (typeof rows)[number]) => boolean) => rows.filter(keep).map((r) => r.id);
const all = { type: 'build-audience', dimension: 't' };
const positive = { field: 'i', op: 'gt', value: 0 };
const flagged = { field: 'b', op: 'eq', value: true };

describeEachDatabase('split and deduplicate options', (t) => {
  beforeAll(async () => {
    await loadHarness(t);
  });

  const run = (id: string, activities: Record<string, unknown>) => runCampaign(t, id, activities);

  it('gives a row to the first segment that takes it, or to every one with overlap', async () => {
    const segments = [
      { label: 'pos', filter: positive },
      { label: 'flag', filter: flagged },
    ];
    const { ids: of } = await run('split-overlap', {
      all,
      first: { type: 'split', input: 'all', segments, complement: true },
      every: { type: 'split', input: 'all', segments, complement: true, overlap: true },
    });
    const pos = ids((r) => r.i !== null && r.i > 0);
    const flag = ids((r) => r.b === true);
    expect(await of('first.pos')).toEqual(pos);
    expect(await of('first.flag')).toEqual(flag.filter((id) => !pos.includes(id)));
    expect(await of('every.pos')).toEqual(pos);
    expect(await of('every.flag')).toEqual(flag);
    const neither = ids((r) => !pos.includes(r.id) && !flag.includes(r.id));
    expect(await of('first.complement')).toEqual(neither);
    expect(await of('every.complement')).toEqual(neither);
  });

  it('rounds percentages to the nearest row, halves up, of the rows left for the segment', async () => {
    const { ids: of, status } = await run('split-percent', {
      all,
      tenth: { type: 'split', input: 'all', segments: [{ label: 'p', limit: { percent: 10 } }] }, // 0.8 → 1
      half: { type: 'split', input: 'all', segments: [{ label: 'p', limit: { percent: 6.25 } }] }, // 0.5 → 1
      none: { type: 'split', input: 'all', segments: [{ label: 'p', limit: { percent: 5 } }] }, // 0.4 → 0
      rest: {
        type: 'split',
        input: 'all',
        segments: [
          { label: 'three', limit: { count: 3 } },
          // Half of the five rows left is 2.5: three rows, the largest i first.
          { label: 'half', limit: { percent: 50 }, sort: [{ field: 'i', order: 'desc' }] },
        ],
        complement: true,
      },
    });
    expect(await of('tenth.p')).toEqual([1]);
    expect(await of('half.p')).toEqual([1]);
    expect(status.counts['none.p']).toBe(0);
    expect(await of('rest.three')).toEqual([1, 2, 3]);
    const left = rows.filter((r) => r.id > 3).sort((a, b) => (b.i ?? -Infinity) - (a.i ?? -Infinity));
    expect(await of('rest.half')).toEqual(
      left
        .slice(0, 3)
        .map((r) => r.id)
        .sort((a, b) => a - b),
    );
    expect(await of('rest.complement')).toEqual(
      left
        .slice(3)
        .map((r) => r.id)
        .sort((a, b) => a - b),
    );
  });

  it('keeps n rows per group under each method; 0 keeps them all; empty fields are nobody’s duplicates', async () => {
    const dedup = (extra: Record<string, unknown>) => ({
      type: 'deduplicate',
      input: 'all',
      fields: ['b'],
      complement: true,
      ...extra,
    });
    const { ids: of } = await run('dedup-methods', {
      all,
      'max-1': dedup({ method: 'expression', expression: 'i', order: 'max' }),
      'max-2': dedup({ method: 'expression', expression: 'i', order: 'max', keep: 2 }),
      'min-1': dedup({ method: 'expression', expression: 'i', order: 'min' }),
      'all-0': dedup({ method: 'expression', expression: 'i', keep: 0 }),
      'filled-1': dedup({ method: 'non-empty', field: 's' }),
      'filled-2': dedup({ method: 'non-empty', field: 's', keep: 2 }),
      'random-1': dedup({ method: 'random' }),
    });
    // Per value of b, rows ordered by the method's preference then by key; rows without b are all kept.
    const keep = (n: number, prefer: (a: (typeof rows)[number], b: (typeof rows)[number]) => number) => {
      const kept = ids((r) => r.b === null);
      for (const value of [true, false]) {
        const group = rows.filter((r) => r.b === value).sort((a, b) => prefer(a, b) || a.id - b.id);
        kept.push(...group.slice(0, n).map((r) => r.id));
      }
      return kept.sort((a, b) => a - b);
    };
    const byMax = (a: (typeof rows)[number], b: (typeof rows)[number]) =>
      (b.i ?? -Infinity) - (a.i ?? -Infinity);
    const byMin = (a: (typeof rows)[number], b: (typeof rows)[number]) =>
      (a.i ?? Infinity) - (b.i ?? Infinity);
    const filled = (r: (typeof rows)[number]) => (r.s === null || r.s === '' ? 1 : 0);
    const byFilled = (a: (typeof rows)[number], b: (typeof rows)[number]) => filled(a) - filled(b);
    const everyone = rows.map((r) => r.id);
    const cases: Array<[string, number[]]> = [
      ['max-1', keep(1, byMax)],
      ['max-2', keep(2, byMax)],
      ['min-1', keep(1, byMin)],
      ['all-0', everyone],
      ['filled-1', keep(1, byFilled)],
      ['filled-2', keep(2, byFilled)],
    ];
    for (const [activity, expected] of cases) {
      expect(await of(activity), activity).toEqual(expected);
      expect(await of(`${activity}.complement`), activity).toEqual(
        everyone.filter((id) => !expected.includes(id)),
      );
    }
    // Random: one row of each group, whichever; the rows without b all.
    const random = await of('random-1');
    expect(random.filter((id) => ids((r) => r.b === true).includes(id))).toHaveLength(1);
    expect(random.filter((id) => ids((r) => r.b === false).includes(id))).toHaveLength(1);
    expect(random).toEqual(expect.arrayContaining(ids((r) => r.b === null)));
    expect([...random, ...(await of('random-1.complement'))].sort((a, b) => a - b)).toEqual(everyone);
  });
});
