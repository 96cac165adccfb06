import { beforeAll, describe, expect, it } from 'vitest';
import { parseExpression } from '../../src/rules/expression/parse.ts';
import { ExpressionError } from '../../src/rules/expression/syntax.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { expectAgree, loadHarness, typeOf } from '../helpers/expressions.ts';

describe('expression parser', () => {
  it('parses precedence, calls, paths, variables and literals', () => {
    const tree = parseExpression(
      "1 + 2 * 3 > Year(birth_date) AND NOT store.region = 'N' OR $(vars/@x) <> vars.y",
    );
    expect(tree).toMatchObject({ kind: 'binary', op: 'or' });
    expect(parseExpression('#2026-03-01#')).toMatchObject({ kind: 'temporal', text: '2026-03-01' });
    expect(parseExpression("'it''s'")).toMatchObject({ kind: 'string', value: "it's" });
    expect(parseExpression('@email')).toMatchObject({ kind: 'field', path: ['email'] });
  });

  it('says where and what was expected', () => {
    const cases: Array<[string, RegExp]> = [
      [
        'Year(birth_date',
        /expected "," or "\)" to close Year\( but found the end of the expression \(at character 16/,
      ],
      ['1 +', /expected a value, a field, a function or "\(" but found the end/],
      ["'open", /unterminated string/],
      ['a = b = c', /expected AND or OR between two comparisons/],
      ['3 ; 4', /unexpected character ";" \(at character 3/],
      ['', /the expression is empty/],
      [
        '(((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))))',
        /nesting deeper than 64/,
      ],
    ];
    for (const [source, message] of cases) {
      expect(() => parseExpression(source), source).toThrow(message);
      expect(() => parseExpression(source)).toThrow(ExpressionError);
    }
  });
});

describe('expression types', () => {
  it('types operators and refuses mismatches with a clear message', () => {
    expect(typeOf('i + 1')).toBe('integer');
    expect(typeOf('i / 2')).toBe('decimal');
    expect(typeOf("s + '!'")).toBe('string');
    expect(typeOf('dt < ts')).toBe('boolean');
    expect(typeOf('ref.region')).toBe('string');
    expect(() => typeOf("i + 'x'")).toThrow(
      /"\+" needs numbers \(or two strings, to join them\), not a string/,
    );
    expect(() => typeOf('s > 3')).toThrow(/cannot compare a string with a integer/);
    expect(() => typeOf('nope')).toThrow(/t has no column "nope"/);
    expect(() => typeOf('items.amount')).toThrow(/one-to-many link of t/);
    expect(() => typeOf('Nope(1)')).toThrow(/unknown function Nope\(\)/);
    expect(() => typeOf('vars.x')).toThrow(/unknown variable "x"/);
    expect(typeOf('vars.x + 1', { variables: { x: { type: 'integer', value: 1 } } })).toBe('integer');
  });
});

describeEachDatabase('expression core semantics', (t) => {
  beforeAll(() => loadHarness(t));

  it('arithmetic, division by zero, modulo and NULL propagation agree', async () => {
    const values = await expectAgree(t, 'i + i2 * 2 - 1');
    expect(values.get(1)).toBe(51);
    expect(values.get(3)).toBeNull();
    expect((await expectAgree(t, 'i / i2')).get(6)).toBeNull();
    expect((await expectAgree(t, 'i % i2')).get(4)).toBe(-1);
    await expectAgree(t, 'd * d2 + d / 3');
    await expectAgree(t, '-d');
    await expectAgree(t, '-i');
    await expectAgree(t, 'i * -1');
  });

  it('comparisons across types, strings by code point, three-valued logic', async () => {
    await expectAgree(t, 'i > d');
    await expectAgree(t, 'dt < ts');
    await expectAgree(t, 'dt = dt2');
    await expectAgree(t, 's < s2');
    await expectAgree(t, "s >= 'Z'");
    await expectAgree(t, 'b = true OR i > 10');
    await expectAgree(t, 'NOT (b AND i > 0)');
    expect((await expectAgree(t, "s + '!'")).get(1)).toBe('Hello World!');
  });

  it('fields through links, aggregates over collections, Case and variables', async () => {
    expect((await expectAgree(t, 'ref.region')).get(5)).toBeNull();
    const sums = await expectAgree(t, 'Sum(items.amount)');
    expect(sums.get(1)).toBe(30.3);
    expect(sums.get(3)).toBe(0);
    expect((await expectAgree(t, 'Count(items)')).get(1)).toBe(3);
    await expectAgree(t, 'Count(items.at)');
    await expectAgree(t, 'Avg(items.qty)');
    await expectAgree(t, 'Max(items.label)');
    await expectAgree(t, 'Min(items.at)');
    await expectAgree(t, 'CountDistinct(items.label)');
    await expectAgree(t, "Case(When(i > 10, 'big'), When(i > 0, 'small'), Else('none'))");
    await expectAgree(t, 'Case(When(b, d))');
    await expectAgree(t, 'i + vars.bump', { variables: { bump: { type: 'integer', value: 5 } } });
    await expectAgree(t, 'ts > vars.since', {
      variables: { since: { type: 'datetime', value: Date.parse('2020-01-01T00:00:00Z') } },
    });
    await expectAgree(t, '#2024-02-29# = dt');
    await expectAgree(t, 'ts >= #2026-01-01T00:00:00Z#');
  });

  it('window functions number, rank and aggregate over the whole table, deterministically', async () => {
    expect((await expectAgree(t, 'RowNum(OrderBy(i))')).get(1)).toBe(5);
    await expectAgree(t, 'RowNum(PartitionBy(b), OrderBy(Desc(d), s))');
    await expectAgree(t, 'RowNum(PartitionBy(ref.region), OrderBy(Desc(ts)))');
    await expectAgree(t, 'Rank(OrderBy(s2))');
    await expectAgree(t, 'DenseRank(PartitionBy(b), OrderBy(Desc(dt)))');
    const ranks = await expectAgree(t, 'Rank(OrderBy(b))');
    expect([...ranks.values()].sort()).toEqual([1, 1, 1, 4, 4, 4, 7, 7]);
    expect((await expectAgree(t, 'DenseRank(OrderBy(b))')).get(3)).toBe(3);
    await expectAgree(t, '_Over_(Sum(d), PartitionBy(b))');
    expect((await expectAgree(t, '_Over_(Count())')).get(5)).toBe(8);
    await expectAgree(t, '_Over_(Count(s), PartitionBy(ref_id))');
    await expectAgree(t, '_Over_(Avg(i))');
    await expectAgree(t, '_Over_(Max(s), PartitionBy(b))');
    await expectAgree(t, 'i - _Over_(Min(i), PartitionBy(b)) + RowNum(OrderBy(id))');
  });
});

describe('window function errors', () => {
  it('refuses windows without order, parts outside windows, nesting and unsupported aggregates', () => {
    expect(() => typeOf('RowNum()')).toThrow(/RowNum\(\) needs OrderBy/);
    expect(() => typeOf('RowNum(OrderBy(i), PartitionBy(b))')).toThrow(
      /optional PartitionBy\(…\) and then OrderBy/,
    );
    expect(() => typeOf('OrderBy(i)')).toThrow(/only allowed inside a window function/);
    expect(() => typeOf('RowNum(OrderBy(RowNum(OrderBy(i))))')).toThrow(/cannot be nested/);
    expect(() => typeOf('_Over_(CountDistinct(s))')).toThrow(/takes an aggregate first/);
    expect(() => typeOf('_Over_(Sum(s))')).toThrow(/Sum\(\) does not apply to a string/);
    expect(typeOf('RowNum(PartitionBy(s), OrderBy(Desc(ts)))')).toBe('integer');
    expect(typeOf('_Over_(Avg(i), PartitionBy(b))')).toBe('decimal');
  });
});
