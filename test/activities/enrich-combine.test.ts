import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkCampaign } from '../../src/campaigns/document.ts';
import type { Row } from '../../src/rules/dataset.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { runCampaign } from '../helpers/runs.ts';
import { HARNESS_ITEMS, HARNESS_SCHEMA, loadHarness } from '../helpers/expressions.ts';

/**
 * enrich (lines of a collection, joins to other working tables) and combine on chosen columns, run on both
 * databases over the harness workspace (t, its items, r). Expected rows are written by hand from the
 * harness data, or computed here in memory from it.
 */
const audience = (rule: unknown) => ({ type: 'build-audience', dimension: 't', rule });
const idIn = (list: number[]) => ({ field: 'id', op: 'in', value: list });
const iso = (ms: unknown) => (ms === null ? null : new Date(ms as number).toISOString());

/**
 * The first n items of each row of t, in memory: filtered, sorted with empty values as the largest
 * (last ascending, first descending), ties by item id.
 */
function memoryLines(
  tId: number,
  n: number,
  keep: (item: Row) => boolean,
  sort: { field: string; desc: boolean },
): Row[] {
  const rank = (v: unknown) => (v === null ? Infinity : (v as number));
  return HARNESS_ITEMS.filter((item) => item.t_id === tId && keep(item))
    .sort((a, b) => {
      const [x, y] = [rank(a[sort.field]), rank(b[sort.field])];
      const order = x === y ? 0 : (x < y ? -1 : 1) * (sort.desc ? -1 : 1);
      return order || (a.id as number) - (b.id as number);
    })
    .slice(0, n);
}

const POINTS_CSV = [
  'code,ref,points,note',
  '1,1,100,first',
  '4,9,400,four',
  '4,3,401,four-again',
  '99,1,9,nobody',
  ',3,5,empty',
];

describeEachDatabase('enrich and combine runs', (t) => {
  beforeAll(async () => {
    await loadHarness(t);
    const files = path.join(t.database.dataDir, 'files');
    mkdirSync(files, { recursive: true });
    writeFileSync(path.join(files, 'points.csv'), `${POINTS_CSV.join('\n')}\n`);
  });

  const run = (id: string, activities: Record<string, unknown>) => runCampaign(t, id, activities);

  it('takes the first lines of a collection, filtered and sorted, beside its aggregates', async () => {
    const { rows } = await run('lines', {
      all: audience({ and: [] }),
      rich: {
        type: 'enrich',
        input: 'all',
        collections: [
          {
            name: 'latest',
            link: 'items',
            filter: { field: 'amount', op: 'gt', value: 0 },
            sort: [{ field: 'at', order: 'desc' }],
            lines: 1,
            columns: ['amount', 'label'],
          },
          {
            name: 'top',
            link: 'items',
            sort: [{ field: 'qty', order: 'desc' }],
            lines: 3,
            columns: ['id', 'qty', 'at'],
            aggregates: [
              { name: 'top_count', fn: 'count' },
              { name: 'top_max', fn: 'max', of: 'amount' },
            ],
          },
          // Every linked row ties on t_id: the lines are in item id order.
          {
            name: 'tied',
            link: 'items',
            sort: [{ field: 't_id', order: 'desc' }],
            lines: 2,
            columns: ['label'],
          },
        ],
      },
    });
    const enriched = await rows('rich');
    expect(enriched.map((r) => r.id)).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    // Hand-written: the latest item with a positive amount, and the items by quantity (an empty one first).
    expect(enriched.map((r) => [r.id, r.latest_1_amount, r.latest_1_label])).toEqual([
      [1, 10.1, 'alpha'],
      [2, 0.1, 'alpha'],
      [3, null, null],
      [4, 0.2, 'alpha'],
      [5, null, null],
      [6, 99.99, ''],
      [7, null, null],
      [8, 0.7, 'beta'],
    ]);
    expect(enriched.map((r) => [r.id, r.top_1_id, r.top_2_id, r.top_3_id, r.top_count, r.top_max])).toEqual([
      [1, 3, 2, 1, 3, 20.2],
      [2, 4, null, null, 1, 0.1],
      [3, null, null, null, 0, null],
      [4, 5, 6, null, 2, 0.2],
      [5, null, null, null, 0, null],
      [6, 7, null, null, 1, 99.99],
      [7, null, null, null, 0, null],
      [8, 8, null, null, 1, 0.7],
    ]);
    expect(enriched.map((r) => [r.id, r.tied_1_label, r.tied_2_label])).toEqual([
      [1, 'alpha', 'beta'],
      [2, 'alpha', null],
      [3, null, null],
      [4, 'Ωmega', 'alpha'],
      [5, null, null],
      [6, '', null],
      [7, null, null],
      [8, 'beta', null],
    ]);
    // The same lines computed in memory, every cell.
    for (const row of enriched) {
      const latest = memoryLines(
        row.id as number,
        1,
        (i) => (i.amount as number | null) !== null && (i.amount as number) > 0,
        {
          field: 'at',
          desc: true,
        },
      );
      expect([row.latest_1_amount, row.latest_1_label]).toEqual([
        latest[0]?.amount ?? null,
        latest[0]?.label ?? null,
      ]);
      const top = memoryLines(row.id as number, 3, () => true, { field: 'qty', desc: true });
      for (let line = 1; line <= 3; line++) {
        const item = top[line - 1];
        expect([row[`top_${line}_id`], row[`top_${line}_qty`], row[`top_${line}_at`]]).toEqual([
          item?.id ?? null,
          item?.qty ?? null,
          iso(item?.at ?? null),
        ]);
      }
    }
  });

  it('joins the rows of a loaded file and of another population by column pairs', async () => {
    const { rows } = await run('joins', {
      all: audience({ and: [] }),
      points: {
        type: 'load-file',
        file: 'points.csv',
        columns: [
          { name: 'code', type: 'integer' },
          { name: 'ref', type: 'integer' },
          { name: 'points', type: 'integer' },
          { name: 'note', type: 'string' },
        ],
      },
      'all-items': { type: 'build-audience', dimension: 'items' },
      owners: {
        type: 'enrich',
        input: 'all-items',
        attributes: [
          { name: 'owner', expr: 't_id' },
          { name: 'tag', expr: 'label' },
        ],
      },
      rich: {
        type: 'enrich',
        inputs: ['points', 'all', 'owners'],
        primary: 'all',
        attributes: [{ name: 'twice', expr: 'id * 2' }],
        joins: [
          {
            input: 'points',
            name: 'one',
            on: [{ field: 'id', column: 'code' }],
            columns: ['points', 'note'],
          },
          {
            input: 'points',
            name: 'two',
            on: [
              { field: 'id', column: 'code' },
              { field: 'ref_id', column: 'ref' },
            ],
            columns: ['points'],
          },
          { input: 'owners', name: 'item', on: [{ field: 'id', column: 'owner' }], columns: ['id', 'tag'] },
          // Advanced joins: a rule whose parameters are the file's columns, alone or with pairs.
          {
            input: 'points',
            name: 'adv',
            where: {
              and: [
                { field: 'id', op: 'eq', value: { param: 'code' } },
                { field: 'ref_id', op: 'eq', value: { param: 'ref' } },
              ],
            },
            columns: ['points'],
          },
          {
            input: 'points',
            name: 'pos',
            on: [{ field: 'id', column: 'code' }],
            where: { field: 'i', op: 'gt', value: 0 },
            columns: ['note'],
          },
        ],
      },
      // A later activity carries the joined columns on, and may match on them.
      again: {
        type: 'enrich',
        inputs: ['rich', 'points'],
        joins: [
          {
            input: 'points',
            name: 'back',
            on: [{ field: 'one_points', column: 'points' }],
            columns: ['code'],
          },
        ],
      },
    });
    const enriched = await rows('rich');
    expect(enriched.map((r) => r.adv_points)).toEqual(enriched.map((r) => r.two_points));
    // Of the rows with a line (1 and 4), only row 1 has i > 0.
    expect(enriched.map((r) => r.pos_note)).toEqual(enriched.map((r) => (r.id === 1 ? 'first' : null)));
    // Row 4 matches two lines of the file on code alone: the first line is taken; with the ref as well,
    // only the third line matches. The empty code matches nothing.
    expect(
      enriched.map((r) => [r.id, r.twice, r.one_points, r.one_note, r.two_points, r.item_id, r.item_tag]),
    ).toEqual([
      [1, 2, 100, 'first', 100, 1, 'alpha'],
      [2, 4, null, null, null, 4, 'alpha'],
      [3, 6, null, null, null, null, null],
      [4, 8, 400, 'four', 401, 5, 'Ωmega'],
      [5, 10, null, null, null, null, null],
      [6, 12, null, null, null, 7, ''],
      [7, 14, null, null, null, null, null],
      [8, 16, null, null, null, 8, 'beta'],
    ]);
    expect((await rows('again')).map((r) => [r.id, r.one_points, r.back_code])).toEqual([
      [1, 100, 1],
      [2, null, null],
      [3, null, null],
      [4, 400, 4],
      [5, null, null],
      [6, null, null],
      [7, null, null],
      [8, null, null],
    ]);
  });

  // ref_id by row: 1→1, 2→2, 3→∅, 4→3, 5→99, 6→1, 7→2, 8→3.
  it('combines on chosen columns: union, intersection and exclusion with complements; empty values match nothing', async () => {
    const on = (columns: string[]) => ({ reconcileOn: { columns } });
    const { ids } = await run('combine-columns', {
      a: audience({ field: 'i', op: 'gt', value: 0 }), // 1, 5, 6, 8
      b: audience({ field: 'b', op: 'eq', value: true }), // 1, 4, 6
      c: audience({ field: 'id', op: 'lte', value: 3 }), // 1, 2, 3
      d: audience(idIn([3, 7])),
      'union-ab': { type: 'combine', mode: 'union', inputs: ['a', 'b'], ...on(['ref_id']), complement: true },
      'union-bc': { type: 'combine', mode: 'union', inputs: ['b', 'c'], ...on(['ref_id']) },
      'union-cb': { type: 'combine', mode: 'union', inputs: ['c', 'b'], ...on(['ref_id']) },
      'both-ab': {
        type: 'combine',
        mode: 'intersection',
        inputs: ['a', 'b'],
        ...on(['ref_id']),
        complement: true,
      },
      'both-cd': { type: 'combine', mode: 'intersection', inputs: ['c', 'd'], ...on(['ref_id']) },
      'both-two': { type: 'combine', mode: 'intersection', inputs: ['a', 'b'], ...on(['ref_id', 'b']) },
      'a-not-c': {
        type: 'combine',
        mode: 'exclusion',
        inputs: ['c', 'a'],
        primary: 'a',
        ...on(['ref_id']),
        complement: true,
      },
      'c-not-a': { type: 'combine', mode: 'exclusion', inputs: ['c', 'a'], ...on(['ref_id']) },
      'tag-a': { type: 'enrich', input: 'a', attributes: [{ name: 'tag', expr: 'ref_id * 10' }] },
      'tag-c': { type: 'enrich', input: 'c', attributes: [{ name: 'tag', expr: 'ref_id * 10' }] },
      'both-tags': { type: 'combine', mode: 'intersection', inputs: ['tag-a', 'tag-c'], ...on(['tag']) },
    });
    // a's rows all, then b's whose key and ref_id a has not: row 4's ref_id 3 is row 8's.
    expect(await ids('union-ab')).toEqual([1, 5, 6, 8]);
    expect(await ids('union-ab.complement')).toEqual([4]);
    // The order of the inputs decides which row of equal columns is kept; row 3 (no ref_id) is always kept.
    expect(await ids('union-bc')).toEqual([1, 2, 3, 4, 6]);
    expect(await ids('union-cb')).toEqual([1, 2, 3, 4]);
    // a's rows whose ref_id (1, 99, 1, 3) b has (1, 3, 1): row 8 is not in b, its ref_id is.
    expect(await ids('both-ab')).toEqual([1, 6, 8]);
    expect(await ids('both-ab.complement')).toEqual([4, 5]);
    // Row 3 is in both inputs, but its empty ref_id matches nothing.
    expect(await ids('both-cd')).toEqual([2]);
    // Both columns: ref_id and b equal (1/true for rows 1 and 6; row 8's b is empty).
    expect(await ids('both-two')).toEqual([1, 6]);
    expect(await ids('a-not-c')).toEqual([5, 8]);
    expect(await ids('a-not-c.complement')).toEqual([1, 2, 3, 6]);
    expect(await ids('c-not-a')).toEqual([2, 3]);
    // A column enrichment added: tags 10, 990, 10, 30 against 10, 20, ∅.
    expect(await ids('both-tags')).toEqual([1, 6]);
  });
});

describe('enrich and combine checks', () => {
  function problems(activities: Record<string, unknown>): string[] {
    try {
      checkCampaign(HARNESS_SCHEMA, { id: 'c', name: 'C', activities });
      return [];
    } catch (error) {
      return (error as { issues: Array<{ path: string; message: string }> }).issues.map(
        (i) => `${i.path}: ${i.message}`,
      );
    }
  }
  const file = {
    type: 'load-file',
    file: 'points.csv',
    columns: [
      { name: 'code', type: 'integer' },
      { name: 'note', type: 'string' },
    ],
  };

  it('checks lines, joins and the names of added columns', () => {
    expect(
      problems({
        all: audience({ and: [] }),
        points: file,
        other: audience({ and: [] }),
        rich: {
          type: 'enrich',
          inputs: ['all', 'points', 'other'],
          attributes: [{ name: 's', expr: 'i' }],
          collections: [
            { name: 'x', link: 'items', lines: 2, aggregates: [{ name: 'x_1_id', fn: 'count' }] },
          ],
          joins: [
            { input: 'points', name: 'p', on: [{ field: 's', column: 'code' }], columns: ['nope'] },
            { input: 'all', name: 'q', on: [{ field: 'id', column: 'code' }], columns: ['code'] },
            { input: 'elsewhere', name: 'r', on: [{ field: 'id', column: 'code' }], columns: ['code'] },
            {
              input: 'points',
              name: 'w',
              where: { field: 'id', op: 'eq', value: { param: 'id' } },
              columns: ['code'],
            },
            { input: 'points', name: 'n', columns: ['code'] },
          ],
        },
      }),
    ).toEqual([
      'activities.rich.attributes[0].name: column s is added, but t has a column of that name',
      'activities.rich.collections[0].columns: name the columns the lines take',
      'activities.rich.joins[0].on[0]: s (string) cannot match code (integer)',
      'activities.rich.joins[0].columns[0]: points has no column "nope" (columns: _line, code, note)',
      'activities.rich.joins[1].input: all is the population being enriched; join another input',
      'activities.rich.joins[2].input: elsewhere is not one of the inputs (all, points, other)',
      'activities.rich.joins[3].where.value.param: no parameter id among the columns of points: _line, code, note',
      'activities.rich.joins[4].on: join on column pairs (on), a rule (where), or both',
      'activities.rich: the input other is not used: join it (joins) or remove it',
    ]);
    // Lines' numbered columns are names like any other; the output carries them to later checks.
    expect(
      problems({
        all: audience({ and: [] }),
        rich: {
          type: 'enrich',
          input: 'all',
          collections: [
            {
              name: 'x',
              link: 'items',
              lines: 2,
              columns: ['id'],
              aggregates: [{ name: 'x_2_id', fn: 'count' }],
            },
          ],
        },
        u: {
          type: 'combine',
          mode: 'union',
          inputs: ['all', 'rich'],
          reconcileOn: { columns: ['x_1_id', 'i'] },
        },
      }),
    ).toEqual([
      'activities.rich.collections[0].aggregates[0].name: column x_2_id is added twice',
      'activities.u.reconcileOn.columns[0]: all: t has no column "x_1_id"',
    ]);
  });

  it('checks that combine columns exist, with one type, in every input', () => {
    expect(
      problems({
        a: audience({ and: [] }),
        e: { type: 'enrich', input: 'a', attributes: [{ name: 'k', expr: 's' }] },
        f: { type: 'enrich', input: 'a', attributes: [{ name: 'k', expr: 'i' }] },
        u: {
          type: 'combine',
          mode: 'intersection',
          inputs: ['e', 'f'],
          reconcileOn: { columns: ['k', 'ref.region'] },
        },
      }),
    ).toEqual([
      'activities.u.reconcileOn.columns[0]: k has a different type in each input (string, integer)',
    ]);
  });
});
