import { beforeAll, describe, expect, it } from 'vitest';
import { dateToMs } from '../../../src/rules/values.ts';
import { describeEachDatabase } from '../../helpers/databases.ts';
import { expectAgree, loadHarness, typeOf } from '../../helpers/expressions.ts';

const ms = (iso: string) => Date.parse(iso);

describe('conditional function types', () => {
  it('Iif takes a condition and two results of one type', () => {
    expect(typeOf('Iif(b, i, i2)')).toBe('integer');
    expect(typeOf('Iif(b, i, d)')).toBe('decimal');
    expect(typeOf('Iif(b, dt, dt2)')).toBe('date');
    expect(typeOf('Iif(b, dt, ts)')).toBe('datetime');
    expect(typeOf('Iif(b, NULL, s)')).toBe('string');
    expect(typeOf('Iif(NULL, NULL, NULL)')).toBe('null');
    expect(() => typeOf('Iif(b, s, i)')).toThrow(
      /Iif\(boolean, string, integer\) does not match Iif\(boolean, any, any\)/,
    );
    expect(() => typeOf('Iif(b, dt, i)')).toThrow(/does not match/);
    expect(() => typeOf('Iif(i, 1, 2)')).toThrow(/Iif\(integer, integer, integer\) does not match/);
    expect(() => typeOf('Iif(b, 1)')).toThrow(/does not match/);
    expect(() => typeOf('Iif(b, 1, 2, 3)')).toThrow(/does not match/);
  });

  it('Coalesce takes two or more values of one type', () => {
    expect(typeOf('Coalesce(i, i2)')).toBe('integer');
    expect(typeOf('Coalesce(i, d, 0)')).toBe('decimal');
    expect(typeOf('Coalesce(dt, ts)')).toBe('datetime');
    expect(typeOf('Coalesce(NULL, s)')).toBe('string');
    expect(typeOf('Coalesce(NULL, NULL)')).toBe('null');
    expect(() => typeOf('Coalesce(s)')).toThrow(/Coalesce\(string\) does not match Coalesce\(any, any, …\)/);
    expect(() => typeOf('Coalesce(s, s2, i)')).toThrow(/Coalesce\(string, string, integer\) does not match/);
    expect(() => typeOf('Coalesce(b, 0)')).toThrow(/does not match/);
  });

  it('NoNull keeps the type of its one argument', () => {
    for (const [column, type] of [
      ['s', 'string'],
      ['i', 'integer'],
      ['d', 'decimal'],
      ['b', 'boolean'],
      ['dt', 'date'],
      ['ts', 'datetime'],
    ]) {
      expect(typeOf(`NoNull(${column})`)).toBe(type);
    }
    expect(() => typeOf('NoNull(NULL)')).toThrow(/NoNull\(null\) does not match NoNull\(any\)/);
    expect(() => typeOf('NoNull(i, 0)')).toThrow(/does not match/);
  });

  it('IsEmptyString tests a string and chooses between two results of one type', () => {
    expect(typeOf("IsEmptyString(s, 'none', s)")).toBe('string');
    expect(typeOf('IsEmptyString(s, i, d)')).toBe('decimal');
    expect(typeOf('IsEmptyString(NULL, dt, ts)')).toBe('datetime');
    expect(() => typeOf('IsEmptyString(i, 1, 2)')).toThrow(
      /IsEmptyString\(integer, integer, integer\) does not match IsEmptyString\(string, any, any\)/,
    );
    expect(() => typeOf("IsEmptyString(s, 'a', 1)")).toThrow(/does not match/);
    expect(() => typeOf("IsEmptyString(s, 'a')")).toThrow(/does not match/);
  });

  it('Decode takes an even number of arguments: matched values of one type, results of one type', () => {
    expect(typeOf("Decode(i, 1, 'one', 'other')")).toBe('string');
    expect(typeOf("Decode(i, d, 'a', 2, 'b', NULL)")).toBe('string');
    expect(typeOf('Decode(dt, ts, i, d)')).toBe('decimal');
    expect(typeOf('Decode(s, NULL, dt, ts)')).toBe('datetime');
    expect(typeOf('Decode(NULL, NULL, NULL, NULL)')).toBe('null');
    expect(() => typeOf("Decode(i, 1, 'one', 2, 'two')")).toThrow(
      /Decode\(integer, integer, string, integer, string\) does not match Decode\(any, any, any, any, …\)/,
    );
    expect(() => typeOf("Decode(i, 1, 'one')")).toThrow(/does not match/);
    expect(() => typeOf("Decode(i, 'x', 1, 2)")).toThrow(/does not match/);
    expect(() => typeOf("Decode(i, 1, 'a', 2, 'b', 3)")).toThrow(/does not match/);
    expect(() => typeOf("Decode(i, 1, 'a', s, 'b', 'c')")).toThrow(/does not match/);
  });

  it('IfEquals compares two comparable values and chooses between two results of one type', () => {
    expect(typeOf("IfEquals(i, d, 'eq', 'ne')")).toBe('string');
    expect(typeOf('IfEquals(dt, ts, i, d)')).toBe('decimal');
    expect(typeOf('IfEquals(b, true, dt, ts)')).toBe('datetime');
    expect(typeOf('IfEquals(NULL, NULL, 1, 2)')).toBe('integer');
    expect(() => typeOf('IfEquals(s, i, 1, 2)')).toThrow(
      /IfEquals\(string, integer, integer, integer\) does not match IfEquals\(any, any, any, any\)/,
    );
    expect(() => typeOf("IfEquals(s, s2, 1, 'x')")).toThrow(/does not match/);
    expect(() => typeOf('IfEquals(s, s2, 1)')).toThrow(/does not match/);
  });

  it('ToBoolean reads numbers, strings and booleans only', () => {
    for (const arg of ['i', 'd', 's', 'b', 'NULL']) expect(typeOf(`ToBoolean(${arg})`)).toBe('boolean');
    expect(() => typeOf('ToBoolean(dt)')).toThrow(
      /ToBoolean\(date\) does not match ToBoolean\(number\) or ToBoolean\(string\) or ToBoolean\(boolean\)/,
    );
    expect(() => typeOf('ToBoolean(ts)')).toThrow(/does not match/);
    expect(() => typeOf('ToBoolean(s, s2)')).toThrow(/does not match/);
  });

  it('Case types its results as one type and refuses malformed arguments', () => {
    expect(typeOf("Case(When(b, 'yes'), Else('no'))")).toBe('string');
    expect(typeOf('Case(When(b, i), When(i > 0, i2))')).toBe('integer');
    expect(typeOf('Case(When(b, i), Else(d))')).toBe('decimal');
    expect(typeOf('Case(When(b, dt), When(NOT b, ts))')).toBe('datetime');
    expect(typeOf('Case(When(b, NULL), Else(s))')).toBe('string');
    expect(typeOf('Case(When(b, NULL))')).toBe('null');
    expect(typeOf('Case(When(b, Case(When(i > 0, i), Else(d))), Else(0))')).toBe('decimal');
    expect(() => typeOf('Case(When(b, s), Else(i))')).toThrow(
      /Case\(\) results must have one type; found string and integer/,
    );
    expect(() => typeOf('Case(When(i, 1))')).toThrow(/When\(\) needs a condition first, not a integer/);
    expect(() => typeOf('Case(Else(1))')).toThrow(/Case\(\) needs at least one When/);
    expect(() => typeOf('Case()')).toThrow(/Case\(\) needs at least one When/);
    expect(() => typeOf('Case(Else(1), When(b, 2))')).toThrow(/Case\(\) takes When\(condition, value\)/);
    expect(() => typeOf('Case(When(b, 1, 2))')).toThrow(/Case\(\) takes When\(condition, value\)/);
    expect(() => typeOf('Case(b, 1)')).toThrow(/Case\(\) takes When\(condition, value\)/);
    expect(() => typeOf('When(b, 1)')).toThrow(/only allowed inside Case/);
    expect(() => typeOf('Else(1)')).toThrow(/only allowed inside Case/);
  });
});

describeEachDatabase('conditional functions', (t) => {
  beforeAll(() => loadHarness(t));

  /** Values by row id, as a plain object for exact expectations. */
  const byRow = async (source: string) => Object.fromEntries(await expectAgree(t, source));

  it('Iif: a NULL condition chooses the second result; results widen', async () => {
    expect(await byRow('Iif(b, i, d)')).toEqual({
      1: 42,
      2: -2.675,
      3: null,
      4: -17,
      5: 1e-7,
      6: 7,
      7: 2.5,
      8: 1234567.891,
    });
    const temporal = await byRow('Iif(b, dt, ts)');
    expect(temporal[1]).toBe(dateToMs('2024-02-29'));
    expect(temporal[2]).toBe(0);
    expect(temporal[8]).toBe(ms('2026-11-27T10:15:30.250Z'));
    expect(await byRow("Iif(s = '', 'empty', 'not empty')")).toMatchObject({
      2: 'empty',
      3: 'not empty',
    });
    expect(Object.values(await byRow('Iif(NULL, 1, 2)'))).toEqual(Array(8).fill(2));
    expect(await byRow('Iif(b, NULL, s2)')).toMatchObject({ 1: null, 2: '', 3: null, 8: 'SS' });
    await expectAgree(t, 'Iif(i > 0, b, NOT b)');
    await expectAgree(t, 'Iif(b, dt, dt2)');
    await expectAgree(t, 'Iif(b, ts, ts2)');
    await expectAgree(t, "Iif(b, Iif(i > 10, 'big', 'small'), Coalesce(s, 'none'))");
    await expectAgree(t, 'Iif(b, NULL, NULL)');
  });

  it('Coalesce: the first non-NULL argument, widened', async () => {
    expect(await byRow('Coalesce(i, d, 0)')).toMatchObject({ 1: 42, 2: 0, 3: 0 });
    expect(await byRow('Coalesce(dt, ts, #2026-01-01T00:00:00Z#)')).toMatchObject({
      1: dateToMs('2024-02-29'),
      3: ms('2026-01-01T00:00:00Z'),
    });
    expect(await byRow("Coalesce(s, 'none')")).toMatchObject({ 2: '', 3: 'none' });
    expect(await byRow('Coalesce(b, false)')).toMatchObject({ 2: false, 3: false, 8: false });
    expect(await byRow('Coalesce(s, s2)')).toMatchObject({ 3: null });
    expect(Object.values(await byRow('Coalesce(NULL, NULL)'))).toEqual(Array(8).fill(null));
    await expectAgree(t, 'Coalesce(NULL, d2, i)');
    await expectAgree(t, 'Coalesce(ts, dt2)');
    await expectAgree(t, 'Coalesce(i, i2, 1, 2, 3)');
  });

  it("NoNull: NULL becomes the type's zero, other values stay", async () => {
    expect(await byRow('NoNull(s)')).toMatchObject({ 1: 'Hello World', 2: '', 3: '' });
    expect(await byRow('NoNull(i)')).toMatchObject({ 1: 42, 3: 0 });
    expect(await byRow('NoNull(d)')).toMatchObject({ 2: -2.675, 3: 0 });
    expect(await byRow('NoNull(b)')).toMatchObject({ 1: true, 2: false, 3: false, 8: false });
    expect(await byRow('NoNull(dt)')).toMatchObject({ 1: '2024-02-29', 3: '1970-01-01' });
    expect(await byRow('NoNull(ts)')).toMatchObject({ 2: 0, 3: 0, 4: ms('2026-03-29T01:30:00.000Z') });
    await expectAgree(t, 'NoNull(Iif(b, i, d))');
    await expectAgree(t, 'NoNull(Case(When(b, dt), Else(ts)))');
  });

  it("IsEmptyString: NULL and '' are empty, spaces are not", async () => {
    expect(await byRow("IsEmptyString(s, 'empty', s)")).toEqual({
      1: 'Hello World',
      2: 'empty',
      3: 'empty',
      4: 'Zoë Ünïcødé 日本 🎉',
      5: '  padded  ',
      6: 'john.DOE@Example.COM',
      7: 'it\'s "quoted"; DROP TABLE t; --',
      8: 'ß straße İstanbul',
    });
    expect(await byRow('IsEmptyString(s2, i, d)')).toMatchObject({ 1: 12.5, 2: 0, 3: null, 4: 0.005 });
    expect(Object.values(await byRow("IsEmptyString(' ', 1, 2)"))).toEqual(Array(8).fill(2));
    expect(Object.values(await byRow('IsEmptyString(NULL, 1, 2)'))).toEqual(Array(8).fill(1));
    await expectAgree(t, 'IsEmptyString(s, dt, ts2)');
    await expectAgree(t, 'IsEmptyString(s2, NULL, b)');
  });

  it('Decode: the first matching pair wins, NULL matches nothing, else otherwise', async () => {
    expect(await byRow("Decode(i, 42, 'answer', 0, 'zero', -17, 'negative', 42, 'second', 'other')")).toEqual(
      {
        1: 'answer',
        2: 'zero',
        3: 'other',
        4: 'negative',
        5: 'other',
        6: 'other',
        7: 'other',
        8: 'other',
      },
    );
    expect(await byRow("Decode(i2, d2, 'same', 'different')")).toMatchObject({
      2: 'different',
      3: 'different',
      6: 'same',
    });
    expect(await byRow('Decode(dt, ts2, 1, 2.5)')).toMatchObject({ 1: 2.5, 3: 2.5, 8: 1 });
    expect(await byRow("Decode(b, true, 'yes', false, 'no', 'unknown')")).toMatchObject({
      1: 'yes',
      2: 'no',
      3: 'unknown',
      8: 'unknown',
    });
    expect(Object.values(await byRow("Decode(s, NULL, 'matched', 'not matched')"))).toEqual(
      Array(8).fill('not matched'),
    );
    expect(await byRow("Decode(s, '', 'empty', s2)")).toMatchObject({ 1: 'o', 2: 'empty', 3: null });
    expect(await byRow('Decode(i, 42, dt, 0, ts, NULL)')).toMatchObject({
      1: dateToMs('2024-02-29'),
      2: 0,
      3: null,
    });
    await expectAgree(t, 'Decode(i, i2, s, d, s2, NULL)');
    await expectAgree(t, "Decode(NULL, NULL, 'a', 'b')");
    await expectAgree(t, 'Decode(ts, dt, i, ts2, d, i2)');
  });

  it('IfEquals: equal values choose the third argument; NULL on either side the fourth', async () => {
    expect(await byRow("IfEquals(i2, d2, 'eq', 'ne')")).toMatchObject({ 2: 'ne', 3: 'ne', 6: 'eq' });
    expect(await byRow('IfEquals(dt, ts2, i, d)')).toMatchObject({ 1: 12.5, 3: null, 8: 100 });
    expect(await byRow('IfEquals(s, s2, 1, 0)')).toMatchObject({ 1: 0, 2: 1, 3: 0 });
    expect(await byRow("IfEquals(s, 'hello world', 1, 0)")).toMatchObject({ 1: 0 });
    expect(await byRow('IfEquals(b, true, 1, 0)')).toMatchObject({ 1: 1, 2: 0, 3: 0, 8: 0 });
    expect(Object.values(await byRow('IfEquals(NULL, NULL, 1, 2)'))).toEqual(Array(8).fill(2));
    await expectAgree(t, 'IfEquals(ts, ts2, dt, dt2)');
    await expectAgree(t, 'IfEquals(dt, dt2, NULL, b)');
  });

  it('ToBoolean: numbers are true unless 0, a few words, booleans as they are', async () => {
    expect(await byRow('ToBoolean(i)')).toEqual({
      1: true,
      2: false,
      3: null,
      4: true,
      5: true,
      6: true,
      7: true,
      8: true,
    });
    expect(await byRow('ToBoolean(d2)')).toMatchObject({ 1: true, 3: null, 6: false });
    expect(await byRow('ToBoolean(b)')).toMatchObject({ 1: true, 2: false, 3: null, 8: null });
    expect(Object.values(await byRow('ToBoolean(s)'))).toEqual(Array(8).fill(null));
    const words =
      "Decode(i, 42, ' Yes ', 0, 'FALSE', -17, '1', 7, '0', 9007199254740, '\tno\r\n', -1, 'TrUe', 100, 'y', NULL)";
    expect(await byRow(`ToBoolean(${words})`)).toEqual({
      1: true,
      2: false,
      3: null,
      4: true,
      5: false,
      6: false,
      7: true,
      8: null,
    });
    for (const text of ['', '1.0', '+1', 'yess', 'oui', 'İ', 'nO ']) {
      const expected = text === 'nO ' ? false : null;
      expect(Object.values(await byRow(`ToBoolean('${text}')`)), text).toEqual(Array(8).fill(expected));
    }
    await expectAgree(t, 'ToBoolean(d)');
    await expectAgree(t, 'ToBoolean(NULL)');
    await expectAgree(t, 'ToBoolean(Iif(b, s2, s))');
  });

  it('Case: first true When wins; NULL conditions are not true; no Else gives NULL', async () => {
    expect(await byRow("Case(When(i > 10, 'big'), When(i > 0, 'small'), Else('none'))")).toEqual({
      1: 'big',
      2: 'none',
      3: 'none',
      4: 'none',
      5: 'big',
      6: 'small',
      7: 'none',
      8: 'big',
    });
    expect(await byRow('Case(When(b, i))')).toEqual({
      1: 42,
      2: null,
      3: null,
      4: -17,
      5: null,
      6: 7,
      7: null,
      8: null,
    });
    expect(await byRow('Case(When(b, i), Else(d))')).toMatchObject({ 1: 42, 2: -2.675, 8: 1234567.891 });
    expect(await byRow('Case(When(b, dt), When(NOT b, ts))')).toMatchObject({
      1: dateToMs('2024-02-29'),
      2: 0,
      3: null,
      8: null,
    });
    expect(Object.values(await byRow('Case(When(NULL, 1), Else(2))'))).toEqual(Array(8).fill(2));
    expect(await byRow('Case(When(b, NULL), Else(s2))')).toMatchObject({ 1: null, 2: '', 8: 'SS' });
    await expectAgree(
      t,
      "Case(When(b, Case(When(i > 0, 'pos'), Else('nonpos'))), Else(Iif(b = false, 'off', 'unknown')))",
    );
    await expectAgree(t, 'Case(When(b, i), When(i2 > 0, i2), Else(NULL))');
    await expectAgree(t, 'Case(When(b, ts2), When(s2 = s2, dt2), Else(#2000-01-01#))');
    await expectAgree(t, 'Case(When(i > 0, b), Else(NOT b))');
    await expectAgree(t, 'Case(When(b, NULL))');
    await expectAgree(t, 'Case(When(b, Coalesce(d, i)), Else(NoNull(i2))) * 2');
  });
});
