import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase, type TestDatabase } from '../../helpers/databases.ts';
import { expectAgree, loadHarness, memoryValues, sqlValues, typeOf } from '../../helpers/expressions.ts';

/** The values for rows 1…8 of the harness, in order. */
async function rows(t: TestDatabase, source: string): Promise<unknown[]> {
  return [...(await expectAgree(t, source)).values()];
}

/** The value of an expression that does not depend on the row. */
async function value(t: TestDatabase, source: string): Promise<unknown> {
  return (await expectAgree(t, source)).get(1);
}

describe('numeric function types', () => {
  it('gives integers for integers and whole-number results, decimals otherwise', () => {
    const cases: Array<[string, string]> = [
      ['Abs(i)', 'integer'],
      ['Abs(d)', 'decimal'],
      ['Abs(NULL)', 'integer'],
      ['Ceil(d)', 'integer'],
      ['Floor(i)', 'integer'],
      ['Round(d)', 'integer'],
      ['Round(d, 2)', 'decimal'],
      ['Round(i, -1)', 'integer'],
      ['Trunc(d)', 'integer'],
      ['Trunc(d, 1)', 'decimal'],
      ['Mod(i, i2)', 'integer'],
      ['Mod(i, d)', 'decimal'],
      ['Sign(d)', 'integer'],
      ['Greatest(i, i2, 3)', 'integer'],
      ['Least(i, d)', 'decimal'],
      ['Percent(i, i2)', 'decimal'],
      ['ToInteger(s)', 'integer'],
      ['ToInt64(b)', 'integer'],
      ['ToDouble(i)', 'decimal'],
      ['ToDouble(s)', 'decimal'],
      ['Sqrt(i)', 'decimal'],
      ['Random()', 'decimal'],
      ['Distance(0, 0, d, d2)', 'decimal'],
    ];
    for (const [source, type] of cases) expect(typeOf(source), source).toBe(type);
  });

  it('refuses wrong arities and argument types', () => {
    const cases: Array<[string, RegExp]> = [
      ['Abs()', /Abs\(\) does not match Abs\(number\)/],
      ['Abs(1, 2)', /does not match Abs\(number\)/],
      ["Abs('3')", /Abs\(string\) does not match/],
      ['Ceil(dt)', /Ceil\(date\) does not match Ceil\(number\)/],
      [
        'Round(d, 1.5)',
        /Round\(decimal, decimal\) does not match Round\(number\) or Round\(number, integer\)/,
      ],
      ['Trunc(d, 1, 2)', /does not match/],
      ['Mod(s, 2)', /Mod\(string, integer\) does not match/],
      ['Mod(5)', /does not match/],
      ['Sign(b)', /Sign\(boolean\) does not match/],
      ['Greatest(1)', /Greatest\(integer\) does not match Greatest\(number, number, …\)/],
      ["Least(1, 'a')", /does not match/],
      ['Percent(1)', /does not match/],
      ['ToInteger(dt)', /ToInteger\(date\) does not match/],
      ['ToInt64(1, 2)', /does not match/],
      ['ToDouble(b)', /ToDouble\(boolean\) does not match/],
      ['Random(1)', /Random\(integer\) does not match Random\(\)/],
      ['Distance(1, 2, 3)', /does not match Distance\(decimal, decimal, decimal, decimal\)/],
      ["Sqrt('4')", /does not match/],
    ];
    for (const [source, message] of cases) expect(() => typeOf(source), source).toThrow(message);
  });
});

describeEachDatabase('numeric functions', (t) => {
  beforeAll(() => loadHarness(t));

  it('Abs keeps the type and drops the sign', async () => {
    expect(await rows(t, 'Abs(i)')).toEqual([42, 0, null, 17, 9007199254740, 7, 1, 100]);
    expect(await rows(t, 'Abs(d)')).toEqual([12.5, 2.675, null, 0.005, 1e-7, 99.99, 2.5, 1234567.891]);
    await expectAgree(t, 'Abs(d2)');
    expect(await value(t, 'Abs(-0.0)')).toBe(0);
    expect(await value(t, 'Abs(NULL)')).toBeNull();
  });

  it('Ceil and Floor give whole numbers, on the 15-digit form of decimals', async () => {
    expect(await rows(t, 'Ceil(d)')).toEqual([13, -2, null, 1, 1, 100, 3, 1234568]);
    expect(await rows(t, 'Floor(d)')).toEqual([12, -3, null, 0, 0, 99, 2, 1234567]);
    // -0.5 rounds up to 0, never to -0.
    expect(await rows(t, 'Ceil(d2)')).toEqual([1, 3, null, 0, 100, 0, -2, 1]);
    expect(await rows(t, 'Floor(d2)')).toEqual([0, 3, null, -1, 100, 0, -3, 0]);
    expect(await rows(t, 'Floor(i)')).toEqual([42, 0, null, -17, 9007199254740, 7, -1, 100]);
    // 0.29 * 100 is 28.999999999999996 as a double; its decimal form is 29.
    expect(await value(t, 'Floor(0.29 * 100)')).toBe(29);
    expect(await value(t, 'Ceil(1.1 * 3)')).toBe(4);
    expect(await value(t, 'Ceil(0.1 + 0.2 - 0.3)')).toBe(1);
    // Beyond the integer range: NULL.
    expect(await value(t, 'Ceil(1e20)')).toBeNull();
    expect(await value(t, 'Floor(-1e16)')).toBeNull();
    expect(await value(t, 'Floor(-999999999999999.0)')).toBe(-999999999999999);
  });

  it('Round rounds half away from zero on the decimal form', async () => {
    expect(await rows(t, 'Round(d, 2)')).toEqual([12.5, -2.68, null, 0.01, 0, 99.99, 2.5, 1234567.89]);
    expect(await rows(t, 'Round(d)')).toEqual([13, -3, null, 0, 0, 100, 3, 1234568]);
    expect(await rows(t, 'Round(d2)')).toEqual([0, 3, null, -1, 100, 0, -3, 0]);
    expect(await rows(t, 'Round(d, -2)')).toEqual([0, 0, null, 0, 0, 100, 0, 1234600]);
    expect(await rows(t, 'Round(i, -1)')).toEqual([40, 0, null, -20, 9007199254740, 10, 0, 100]);
    expect(await rows(t, 'Round(i, -i2)')).toEqual([0, 0, null, 0, 9007199254740, 7, 0, 0]);
    await expectAgree(t, 'Round(d, i2)');
    await expectAgree(t, 'Round(d2 * d, 3)');
    await expectAgree(t, 'Round(d / 7, 12)');
    const exact: Array<[string, number | null]> = [
      ['Round(2.675, 2)', 2.68],
      ['Round(1.005, 2)', 1.01],
      ['Round(-1.005, 2)', -1.01],
      ['Round(1.0049, 2)', 1],
      ['Round(2.5)', 3],
      ['Round(-2.5)', -3],
      ['Round(0.5)', 1],
      ['Round(-0.4)', 0],
      ['Round(-0.001, 2)', 0],
      ['Round(1234.5, -2)', 1200],
      ['Round(1250, -2)', 1300],
      ['Round(-1250, -2)', -1300],
      ['Round(1250.0, -2)', 1300],
      ['Round(99999.99, -1)', 100000],
      ['Round(1e300, -300)', 1e300],
      ['Round(5, 400)', 5],
      ['Round(1.5, 400)', 1.5],
      ['Round(1.5, -400)', 0],
      ['Round(9007199254740991, -15)', 9000000000000000],
      // 10^16 is beyond the integer range.
      ['Round(9007199254740991, -16)', null],
      ['Round(9007199254740991, -1)', 9007199254740990],
      // Integers are rounded exactly, not on a 15-digit form.
      ['Round(1234567890123449, -2)', 1234567890123400],
      ['Round(d, NULL)', null],
      // Exact ties at the 16th digit: the decimal form breaks them to even, as PostgreSQL does.
      ['Round(100000000000000.5)', 100000000000000],
      ['Round(100000000000001.5)', 100000000000002],
      ['Round(0.0000002384185791015625, 21)', 2.38418579101562e-7],
    ];
    for (const [source, expected] of exact) expect(await value(t, source), source).toBe(expected);
  });

  it('Trunc cuts toward zero on the decimal form', async () => {
    expect(await rows(t, 'Trunc(d)')).toEqual([12, -2, null, 0, 0, 99, 2, 1234567]);
    expect(await rows(t, 'Trunc(d, 2)')).toEqual([12.5, -2.67, null, 0, 0, 99.99, 2.5, 1234567.89]);
    expect(await rows(t, 'Trunc(i, -1)')).toEqual([40, 0, null, -10, 9007199254740, 0, 0, 100]);
    await expectAgree(t, 'Trunc(d, i2)');
    await expectAgree(t, 'Trunc(d2, -i2)');
    await expectAgree(t, 'Trunc(d / 3, 5)');
    const exact: Array<[string, number | null]> = [
      // 1.15 is 1.149999999999999911… as a double.
      ['Trunc(1.15, 2)', 1.15],
      ['Trunc(-1.15, 2)', -1.15],
      ['Trunc(-0.001, 2)', 0],
      ['Trunc(-0.9)', 0],
      ['Trunc(1999.99, -3)', 1000],
      ['Trunc(-1999, -3)', -1000],
      ['Trunc(0.29 * 100)', 29],
      ['Trunc(1e-7, 400)', 1e-7],
      ['Trunc(1e20)', null],
    ];
    for (const [source, expected] of exact) expect(await value(t, source), source).toBe(expected);
  });

  it('Mod keeps the sign of the dividend and is exact on decimals', async () => {
    expect(await rows(t, 'Mod(i, i2)')).toEqual([2, 0, null, -1, 0, null, -1, 2]);
    expect(await rows(t, 'Mod(d, d2)')).toEqual([0, -2.675, null, 0.005, 1e-7, null, 0, 0.091]);
    await expectAgree(t, 'Mod(i, d2)');
    await expectAgree(t, 'Mod(d2, d)');
    await expectAgree(t, 'Mod(d, 0.7)');
    const exact: Array<[string, number | null]> = [
      ['Mod(-7, 3)', -1],
      ['Mod(7, -3)', 1],
      ['Mod(-17, 17)', 0],
      ['Mod(7, 0)', null],
      ['Mod(5.5, 0.1)', 0],
      ['Mod(0.3, 0.1)', 0],
      ['Mod(-5.5, 2)', -1.5],
      ['Mod(-4.0, 2)', 0],
      ['Mod(7.5, 0.0)', null],
      ['Mod(1e300, 1e-300)', 0],
      ['Mod(10, 0.3)', 0.1],
    ];
    for (const [source, expected] of exact) expect(await value(t, source), source).toBe(expected);
  });

  it('Sign gives -1, 0 or 1 as an integer', async () => {
    expect(await rows(t, 'Sign(d2)')).toEqual([1, 1, null, -1, 1, 0, -1, 1]);
    expect(await rows(t, 'Sign(i)')).toEqual([1, 0, null, -1, 1, 1, -1, 1]);
    expect(await value(t, 'Sign(-0.0)')).toBe(0);
    expect(await value(t, 'Sign(1e-300)')).toBe(1);
  });

  it('Greatest and Least ignore NULLs; NULL only when all are', async () => {
    expect(await rows(t, 'Greatest(i, i2)')).toEqual([42, 0, null, 4, 9007199254740, 7, 2, 100]);
    expect(await rows(t, 'Least(i, i2)')).toEqual([5, -3, null, -17, 1, 0, -1, 7]);
    expect(await rows(t, 'Greatest(d, d2, i)')).toEqual([
      42,
      3,
      null,
      0.005,
      9007199254740,
      99.99,
      2.5,
      1234567.891,
    ]);
    expect(await rows(t, 'Least(d, d2, i)')).toEqual([0.1, -2.675, null, -17, 1e-7, 0, -2.5, 0.3]);
    expect(await rows(t, 'Greatest(i, NULL, 0)')).toEqual([42, 0, 0, 0, 9007199254740, 7, 0, 100]);
    expect(await rows(t, 'Least(d2, i)')).toEqual([0.1, 0, null, -17, 100, 0, -2.5, 0.3]);
    expect(await value(t, 'Greatest(NULL, NULL)')).toBeNull();
    expect(await value(t, 'Least(NULL, 2.5)')).toBe(2.5);
    // A decimal result stays a decimal in SQL too: no integer division afterwards.
    expect(await value(t, 'Greatest(3, 2.5) / 2')).toBe(1.5);
    expect(await value(t, 'Least(3, 4.5) / 2')).toBe(1.5);
  });

  it('Percent is part × 100 / total', async () => {
    expect(await rows(t, 'Percent(i, i2)')).toEqual([
      840,
      0,
      null,
      -425,
      900719925474000,
      null,
      -50,
      1428.5714285714287,
    ]);
    await expectAgree(t, 'Percent(d, d2)');
    await expectAgree(t, 'Percent(d2, d)');
    expect(await value(t, 'Percent(29, 100)')).toBe(29);
    expect(await value(t, 'Percent(1, 3)')).toBe(33.333333333333336);
    expect(await value(t, 'Percent(0.5, 0.0)')).toBeNull();
    expect(await value(t, 'Percent(0, -5)')).toBe(0);
  });

  it('ToInteger and ToInt64 truncate decimals, parse whole-number text and count booleans', async () => {
    for (const name of ['ToInteger', 'ToInt64']) {
      expect(await rows(t, `${name}(d)`)).toEqual([12, -2, null, 0, 0, 99, 2, 1234567]);
      expect(await rows(t, `${name}(b)`)).toEqual([1, 0, null, 1, 0, 1, 0, null]);
      expect(await rows(t, `${name}(i)`)).toEqual([42, 0, null, -17, 9007199254740, 7, -1, 100]);
      expect(await rows(t, `${name}(s)`)).toEqual([null, null, null, null, null, null, null, null]);
    }
    const exact: Array<[string, number | null]> = [
      ["ToInteger(' -42 ')", -42],
      ["ToInteger('+7')", 7],
      ["ToInteger('007')", 7],
      ["ToInteger('-0')", 0],
      ["ToInteger('\t12\r\n')", 12],
      ["ToInteger('9007199254740991')", 9007199254740991],
      ["ToInteger('-9007199254740991')", -9007199254740991],
      ["ToInteger('9007199254740992')", null],
      ["ToInteger('99999999999999999999999999')", null],
      ["ToInteger('4.0')", null],
      ["ToInteger('1e3')", null],
      ["ToInteger('1 000')", null],
      ["ToInteger('abc')", null],
      ["ToInteger('')", null],
      ["ToInteger('-')", null],
      ["ToInteger('+-1')", null],
      ["ToInteger('١٢')", null],
      ["ToInteger('\u00a012')", null],
      ['ToInteger(-2.9)', -2],
      ['ToInteger(0.29 * 100)', 29],
      ['ToInteger(1e20)', null],
      ['ToInteger(true)', 1],
      ['ToInteger(NULL)', null],
    ];
    for (const [source, expected] of exact) expect(await value(t, source), source).toBe(expected);
  });

  it('ToDouble reads integers and decimal-number text', async () => {
    expect(await rows(t, 'ToDouble(i)')).toEqual([42, 0, null, -17, 9007199254740, 7, -1, 100]);
    expect(await rows(t, 'ToDouble(s)')).toEqual([null, null, null, null, null, null, null, null]);
    expect(await value(t, 'ToDouble(i) / 4')).toBe(10.5);
    const exact: Array<[string, number | null]> = [
      ["ToDouble(' 12.50 ')", 12.5],
      ["ToDouble('-.5')", -0.5],
      ["ToDouble('+5.')", 5],
      ["ToDouble('-0')", 0],
      ["ToDouble('\t3.25\n')", 3.25],
      ["ToDouble('0.1000000000000000055511151231257827')", 0.1],
      // SQLite's own text-to-REAL conversion is one unit off on these.
      ["ToDouble('512936969.2859856188338617')", 512936969.28598565],
      ["ToDouble('44143766823934292.0002')", 44143766823934296],
      [`ToDouble('${'9'.repeat(300)}')`, 1e300],
      [`ToDouble('0.${'0'.repeat(297)}1')`, 1e-298],
      [`ToDouble('${'9'.repeat(301)}')`, null],
      ["ToDouble('1e3')", null],
      ["ToDouble('1,5')", null],
      ["ToDouble('.')", null],
      ["ToDouble('1.2.3')", null],
      ["ToDouble('NaN')", null],
      ["ToDouble('Infinity')", null],
      ["ToDouble('')", null],
      ["ToDouble('5-')", null],
    ];
    for (const [source, expected] of exact) expect(await value(t, source), source).toBe(expected);
  });

  it('Sqrt is exact and NULL for negative numbers', async () => {
    expect(await rows(t, 'Sqrt(i)')).toEqual([
      Math.sqrt(42),
      0,
      null,
      null,
      Math.sqrt(9007199254740),
      Math.sqrt(7),
      null,
      10,
    ]);
    await expectAgree(t, 'Sqrt(d)');
    await expectAgree(t, 'Sqrt(d2)');
    expect(await value(t, 'Sqrt(16)')).toBe(4);
    expect(await value(t, 'Sqrt(2)')).toBe(1.4142135623730951);
    expect(await value(t, 'Sqrt(-0.0)')).toBe(0);
    expect(await value(t, 'Sqrt(-1)')).toBeNull();
  });

  it('Distance is the haversine distance in km, rounded to 6 places', async () => {
    // Expected values checked against the spherical Vincenty formula. Rows 5, 6 and 8 have a latitude or
    // longitude off the globe.
    expect(await rows(t, 'Distance(d, d2, d2, d)')).toEqual([
      1942.081209,
      892.228622,
      null,
      79.412455,
      null,
      null,
      786.14208,
      null,
    ]);
    await expectAgree(t, 'Distance(i, i2, d2, d)');
    await expectAgree(t, 'Distance(i2, d2, i2 + 0.5, d2 - 0.25)');
    const exact: Array<[string, number | null]> = [
      // Paris to London.
      ['Distance(2.3522, 48.8566, -0.1276, 51.5072)', 343.529865],
      ['Distance(0, 0, 180, 0)', 20015.086796],
      ['Distance(0, 90, 0, -90)', 20015.086796],
      ['Distance(-180, 0, 180, 0)', 0],
      ['Distance(10, 45, 10, 45)', 0],
      ['Distance(0, 90.5, 0, 0)', null],
      ['Distance(180.1, 0, 0, 0)', null],
    ];
    for (const [source, expected] of exact) expect(await value(t, source), source).toBe(expected);
  });

  it('gives the results docs/functions/numeric.md shows', async () => {
    const examples: Array<[string, number | null]> = [
      ['Abs(-17)', 17],
      ['Ceil(12.1)', 13],
      ['Ceil(-0.5)', 0],
      ['Floor(-2.675)', -3],
      ['Round(2.675, 2)', 2.68],
      ['Round(123456789012345.67)', 123456789012346],
      ['Trunc(-2.675, 2)', -2.67],
      ['Mod(-17, 5)', -2],
      ['Sign(-0.01)', -1],
      ['Greatest(NULL, 2)', 2],
      ['Least(45, 30)', 30],
      ['Least(NULL, 30)', 30],
      ["ToInt64('2048')", 2048],
      ["ToInteger(ToDouble('42.7'))", 42],
      ['ToDouble(7) / 2', 3.5],
    ];
    for (const [source, expected] of examples) expect(await value(t, source), source).toBe(expected);
  });

  it('Random gives a decimal in [0, 1) that varies per row', async () => {
    expect(typeOf('Random()')).toBe('decimal');
    for (const values of [await sqlValues(t, 'Random()'), memoryValues('Random()')]) {
      for (const v of values.values()) {
        expect(typeof v).toBe('number');
        expect(v as number).toBeGreaterThanOrEqual(0);
        expect(v as number).toBeLessThan(1);
      }
      expect(new Set(values.values()).size).toBeGreaterThan(1);
    }
    const scaled = await sqlValues(t, 'Floor(Random() * 10)');
    for (const v of scaled.values()) expect(Number.isInteger(v) && (v as number) < 10).toBe(true);
  });
});
