import { beforeAll, describe, expect, it } from 'vitest';
import { checkRule } from '../../src/rules/check-rule.ts';
import { countRule, distribution, previewRule, ruleSqlText } from '../../src/rules/rule-service.ts';
import { findTable } from '../../src/schema/types.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { HARNESS_SCHEMA, loadHarness } from '../helpers/expressions.ts';
import { expectRuleAgrees } from '../helpers/rules.ts';

const T = findTable(HARNESS_SCHEMA, 't')!;

function problems(rule: unknown): string[] {
  try {
    checkRule(HARNESS_SCHEMA, T, rule);
    return [];
  } catch (error) {
    return (error as { issues: Array<{ path: string; message: string }> }).issues.map(
      (i) => `${i.path}: ${i.message}`,
    );
  }
}

describe('rule validation', () => {
  it('names the path of every problem at once', () => {
    expect(
      problems({
        and: [
          { field: 'nope', op: 'eq', value: 1 },
          { field: 'i', op: 'between', value: [1] },
          { or: [{ field: 's', op: 'gt', value: 3 }] },
          { exists: 'ref' },
          { aggregate: 'median', of: 'items.amount', op: 'gt', value: 1 },
          { expr: 'Year(dt', op: 'eq', value: 2020 },
          { field: 'b', op: 'contains', value: 'x' },
          { field: 's', op: 'eq', value: null },
          { field: 's', op: 'like', value: 'abc\\' },
        ],
      }),
    ).toEqual([
      'rule.and[0].field: t has no column "nope"',
      'rule.and[1].value: between needs two values: [low, high]',
      'rule.and[2].or[0].value: expected text, got 3',
      'rule.and[3].exists: "ref" is a many-to-one link: compare its columns directly (ref.<column>)',
      'rule.and[4].aggregate: expected one of count, countDistinct, sum, avg, min, max',
      expect.stringMatching(/^rule.and\[5\].expr: expected "," or "\)" to close Year\(/),
      'rule.and[6].op: contains applies to text; this is a boolean',
      'rule.and[7].value: an empty value matches nothing: use isEmpty or isNotEmpty',
      'rule.and[8].value: a like pattern must not end with a lone \\ (write \\\\ for a backslash)',
    ]);
  });

  it('refuses shapes that are not rules, and hostile sizes', () => {
    expect(problems('DROP TABLE t')).toEqual([
      expect.stringMatching(/^rule: expected a condition or a group/),
    ]);
    expect(problems({ field: 's', op: 'eq', value: 'x', extra: 1 })).toEqual([
      'rule.extra: unexpected key "extra" in a field condition',
    ]);
    expect(problems({ field: 's', expr: 's', op: 'eq', value: 'x' })).toEqual([
      'rule: a condition has exactly one of field, expr',
    ]);
    let deep: unknown = { field: 'i', op: 'eq', value: 1 };
    for (let i = 0; i < 40; i++) deep = { and: [deep] };
    expect(problems(deep)[0]).toMatch(/groups nest deeper than 32 levels/);
    expect(
      problems({ or: Array.from({ length: 1200 }, () => ({ field: 'i', op: 'eq', value: 1 })) }),
    ).toContain('rule.or[999]: a rule holds at most 1000 conditions');
    expect(problems({ field: 's', op: 'eq', value: { expr: "s'; DROP TABLE t; --" } })[0]).toMatch(
      /unterminated string/,
    );
  });
});

describeEachDatabase('rules', (t) => {
  beforeAll(() => loadHarness(t));

  it('positive and negative operators split the rows exactly, NULLs with the negative side', async () => {
    const all = [1, 2, 3, 4, 5, 6, 7, 8];
    const pairs: Array<[string, string, unknown]> = [
      ['eq', 'ne', 'Hello World'],
      ['in', 'notIn', ['', 'Hello World']],
      ['isEmpty', 'isNotEmpty', undefined],
      ['startsWith', 'notStartsWith', 'Hello'],
      ['contains', 'notContains', 'o'],
      ['like', 'notLike', '%o_'],
    ];
    for (const [positive, negative, value] of pairs) {
      const yes = await expectRuleAgrees(t, {
        rule: { field: 's', op: positive, ...(value === undefined ? {} : { value }) },
      });
      const no = await expectRuleAgrees(t, {
        rule: { field: 's', op: negative, ...(value === undefined ? {} : { value }) },
      });
      expect(
        [...yes, ...no].sort((a, b) => a - b),
        `${positive}/${negative}`,
      ).toEqual(all);
    }
    expect(await expectRuleAgrees(t, { rule: { field: 's', op: 'isEmpty' } })).toEqual([2, 3]);
    expect(await expectRuleAgrees(t, { rule: { field: 's', op: 'ne', value: 'Hello World' } })).toContain(3);
  });

  it('is case-sensitive and reads like wildcards and escapes identically', async () => {
    expect(await expectRuleAgrees(t, { rule: { field: 's', op: 'contains', value: 'doe' } })).toEqual([]);
    expect(await expectRuleAgrees(t, { rule: { field: 's', op: 'like', value: 'john%COM' } })).toEqual([6]);
    expect(await expectRuleAgrees(t, { rule: { field: 's', op: 'like', value: 'JOHN%' } })).toEqual([]);
    expect(await expectRuleAgrees(t, { rule: { field: 's2', op: 'like', value: '\\%\\_\\\\' } })).toEqual([
      6,
    ]);
    expect(await expectRuleAgrees(t, { rule: { field: 's', op: 'like', value: '_o%' } })).toEqual([4, 6]);
    expect(await expectRuleAgrees(t, { rule: { field: 's', op: 'like', value: 'Zo_ %🎉' } })).toEqual([4]);
    expect(await expectRuleAgrees(t, { rule: { field: 's', op: 'startsWith', value: "it's" } })).toEqual([7]);
  });

  it('compares every type, dates with datetimes, strings by code point', async () => {
    await expectRuleAgrees(t, { rule: { field: 'i', op: 'between', value: [0, 42] } });
    await expectRuleAgrees(t, { rule: { field: 'd', op: 'gt', value: 2.5 } });
    await expectRuleAgrees(t, { rule: { field: 'd', op: 'lte', value: '0.005' } });
    await expectRuleAgrees(t, { rule: { field: 'b', op: 'eq', value: false } });
    await expectRuleAgrees(t, { rule: { field: 'b', op: 'ne', value: true } });
    expect(await expectRuleAgrees(t, { rule: { field: 'dt', op: 'gte', value: '2024-02-29' } })).toEqual([
      1, 4, 8,
    ]);
    await expectRuleAgrees(t, { rule: { field: 'ts', op: 'lt', value: '2000-01-01T00:00:00Z' } });
    await expectRuleAgrees(t, { rule: { field: 'ts', op: 'gte', value: '2026-11-28' } });
    await expectRuleAgrees(t, { rule: { field: 'dt', op: 'lt', value: { expr: 'ts' } } });
    await expectRuleAgrees(t, { rule: { field: 's', op: 'gt', value: 'Z' } });
    await expectRuleAgrees(t, { rule: { field: 'dt', op: 'in', value: ['2024-02-29', '1900-01-01'] } });
  });

  it('groups, except, links, exists and aggregates', async () => {
    expect(await expectRuleAgrees(t, { rule: { and: [] } })).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(
      await expectRuleAgrees(t, {
        rule: {
          except: [
            { field: 'i', op: 'gte', value: 0 },
            { field: 'b', op: 'eq', value: true },
          ],
        },
      }),
    ).toEqual([2, 5, 8]);
    await expectRuleAgrees(t, {
      rule: {
        or: [
          { field: 'ref.region', op: 'eq', value: 'North' },
          { field: 'ref.name', op: 'isEmpty' },
        ],
      },
    });
    expect(await expectRuleAgrees(t, { rule: { field: 'ref.region', op: 'ne', value: 'North' } })).toEqual([
      2, 3, 4, 5, 7, 8,
    ]);
    expect(await expectRuleAgrees(t, { rule: { exists: 'items' } })).toEqual([1, 2, 4, 6, 8]);
    expect(
      await expectRuleAgrees(t, {
        rule: { notExists: 'items', where: { field: 'label', op: 'eq', value: 'alpha' } },
      }),
    ).toEqual([3, 5, 6, 7, 8]);
    expect(
      await expectRuleAgrees(t, { rule: { aggregate: 'sum', of: 'items.amount', op: 'gte', value: 30.3 } }),
    ).toEqual([1, 6]);
    expect(
      await expectRuleAgrees(t, { rule: { aggregate: 'count', of: 'items', op: 'eq', value: 0 } }),
    ).toEqual([3, 5, 7]);
    // An aggregate compared with a per-row expression (the latest non-beta item against the row's ts),
    // and a typo in that expression refused by name.
    await expectRuleAgrees(t, {
      rule: {
        aggregate: 'max',
        of: 'items.at',
        where: { field: 'label', op: 'ne', value: 'beta' },
        op: 'gte',
        value: { expr: 'ts' },
      },
    });
    await expect(
      expectRuleAgrees(t, {
        rule: {
          aggregate: 'max',
          of: 'items.at',
          where: { field: 'label', op: 'ne', value: 'beta' },
          op: 'gte',
          value: { expr: 'AddDaysMissing' },
        },
      }),
    ).rejects.toThrow(/no column "AddDaysMissing"/);
    await expectRuleAgrees(t, { rule: { aggregate: 'avg', of: 'items.qty', op: 'ne', value: 2 } });
    await expectRuleAgrees(t, {
      rule: {
        except: [{ exists: 'items' }, { aggregate: 'countDistinct', of: 'items.label', op: 'gt', value: 1 }],
      },
    });
  });

  it('uses window functions in conditions, also over the rows of a collection', async () => {
    // The latest row per store, and the customers whose latest item is an alpha.
    expect(
      await expectRuleAgrees(t, {
        rule: { expr: 'RowNum(PartitionBy(ref_id), OrderBy(Desc(ts)))', op: 'eq', value: 1 },
      }),
    ).toEqual([1, 3, 5, 7, 8]);
    // Descending, an empty date comes first: customer 1's latest item is the one without a date.
    expect(
      await expectRuleAgrees(t, {
        rule: {
          exists: 'items',
          where: {
            and: [
              { expr: 'RowNum(PartitionBy(t_id), OrderBy(Desc(at)))', op: 'eq', value: 1 },
              { field: 'label', op: 'eq', value: 'alpha' },
            ],
          },
        },
      }),
    ).toEqual([2]);
  });

  it('is proof against hostile input: names are looked up, never written; values are parameters', async () => {
    const hostile = [
      { field: 'id; DROP TABLE data_t; --', op: 'eq', value: 1 },
      { field: 'ref"."region', op: 'eq', value: 'x' },
      { exists: 'items" WHERE 1=1 --' },
      { aggregate: 'sum', of: 'items.amount) FROM data_t; --', op: 'gt', value: 1 },
      { field: 'i', op: 'eq', value: { param: 'x; DROP TABLE' } },
      { expr: 'Lower(s) = s; DROP TABLE data_t', op: 'eq', value: true },
      { expr: 'Sleep(10)', op: 'eq', value: 1 },
      { field: 'i', op: 'eq; DROP', value: 1 },
    ];
    for (const rule of hostile) {
      await expect(
        countRule(t.database, { dimension: 't', rule }),
        JSON.stringify(rule),
      ).rejects.toMatchObject({
        name: 'ValidationError',
      });
    }
    await expect(
      countRule(t.database, { dimension: 't; DROP TABLE data_t', rule: { and: [] } }),
    ).rejects.toThrow(/Unknown table "t; DROP TABLE data_t"/);
    // Quotes and comment markers in values and in expression strings are plain data.
    for (const value of ["' OR '1'='1", "x'); DROP TABLE data_t; --", '\\', '%']) {
      expect(await expectRuleAgrees(t, { rule: { field: 's', op: 'eq', value } })).toEqual([]);
      expect(
        await expectRuleAgrees(t, {
          rule: { expr: `s = '${value.replaceAll("'", "''")}'`, op: 'eq', value: true },
        }),
      ).toEqual([]);
    }
    expect(
      await expectRuleAgrees(t, {
        rule: { field: 's', op: 'eq', value: 'it\'s "quoted"; DROP TABLE t; --' },
      }),
    ).toEqual([7]);
    expect(await countRule(t.database, { dimension: 't', rule: { and: [] } })).toBe(8);
    // NUL is refused up front (PostgreSQL would refuse the parameter).
    const nul = String.fromCharCode(0);
    await expect(
      countRule(t.database, { dimension: 't', rule: { field: 's', op: 'eq', value: `a${nul}b` } }),
    ).rejects.toThrow(/rule.value: text cannot contain the NUL character/);
    await expect(
      countRule(t.database, { dimension: 't', rule: { expr: `s = 'a${nul}b'`, op: 'eq', value: true } }),
    ).rejects.toThrow(/text cannot contain the NUL character/);
  });

  it('turns a database overflow into a clear error, never a leak', async () => {
    const huge = { expr: 'i * 9007199254740 * 9007199254740', op: 'gt', value: 0 };
    if (t.database.kind === 'postgres') {
      await expect(countRule(t.database, { dimension: 't', rule: huge })).rejects.toThrow(/out of range/);
      const { asUserError } = await import('../../src/errors.ts');
      const error = await countRule(t.database, { dimension: 't', rule: huge }).catch((e: unknown) => e);
      expect(asUserError(error)?.message).toMatch(
        /whole numbers in rules and expressions are exact up to 2\^53/,
      );
    } else {
      // SQLite goes to floating point where PostgreSQL refuses: no error, a count.
      expect(await countRule(t.database, { dimension: 't', rule: huge })).toBeGreaterThan(0);
    }
  });

  it('takes parameters, typed by what they are compared with', async () => {
    expect(
      await expectRuleAgrees(t, {
        rule: { field: 'ts', op: 'gte', value: { param: 'since' } },
        parameters: { since: '2026-01-01' },
      }),
    ).toEqual([1, 4, 8]);
    await expect(
      countRule(t.database, { dimension: 't', rule: { field: 'i', op: 'eq', value: { param: 'n' } } }),
    ).rejects.toThrow(/parameters.n: the rule uses parameter n \(integer\); give it a value/);
    await expect(
      countRule(t.database, {
        dimension: 't',
        rule: { field: 'i', op: 'eq', value: { param: 'n' } },
        parameters: { n: 'x', m: 1 },
      }),
    ).rejects.toThrow(
      /parameters.n: expected a whole number[\s\S]*parameters.m: the rule has no parameter m/,
    );
  });

  it('counts, previews with link columns, shows its SQL and distributes values', async () => {
    const rule = { field: 'i', op: 'gt', value: 0 };
    expect(await countRule(t.database, { dimension: 't', rule })).toBe(4);
    const preview = await previewRule(t.database, {
      dimension: 't',
      rule,
      columns: ['id', 's', 'ref.region'],
      limit: 2,
      offset: 1,
    });
    expect(preview.columns.map((c) => c.name)).toEqual(['id', 's', 'ref.region']);
    expect(preview.rows).toEqual([
      { id: 5, s: '  padded  ', 'ref.region': null },
      { id: 6, s: 'john.DOE@Example.COM', 'ref.region': 'North' },
    ]);
    const text = await ruleSqlText(t.database, {
      dimension: 't',
      rule: { field: 's', op: 'eq', value: "O'Neil" },
    });
    expect(text.parameters).toEqual(["O'Neil"]);
    expect(text.readable).toContain("'O''Neil'");
    expect(text.sql).not.toContain('Neil');
    const spread = await distribution(t.database, { dimension: 't', field: 'ref.region' });
    expect(spread).toMatchObject({ total: 8, partial: false });
    expect(spread.values).toEqual([
      { value: null, count: 4, percent: 50 },
      { value: 'North', count: 2, percent: 25 },
      { value: 'South', count: 2, percent: 25 },
    ]);
  });
});
