import { sql, type RawBuilder } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { STRING_FUNCTIONS } from '../../../src/rules/expression/functions/string.ts';
import type { SqlContext } from '../../../src/rules/expression/functions/types.ts';
import { sqlParam } from '../../../src/rules/sql-values.ts';
import type { Value, ValueType } from '../../../src/rules/values.ts';
import { describeEachDatabase, type TestDatabase } from '../../helpers/databases.ts';
import {
  expectAgree,
  HARNESS_NOW,
  loadHarness,
  typeOf,
  type ExpressionRun,
} from '../../helpers/expressions.ts';

/** A run binding `vars.x`, to test values no column holds. */
const bind = (value: Value, type: ValueType = 'string'): ExpressionRun => ({
  variables: { x: { type, value } },
});

/** The value an expression gives (the same for every row), after checking all three sides agree. */
async function valueOf(t: TestDatabase, source: string, run: ExpressionRun = {}): Promise<Value> {
  return (await expectAgree(t, source, run)).get(1)!;
}

describe('string function types', () => {
  it('types results and refuses wrong arities and argument types', () => {
    expect(typeOf('Length(s)')).toBe('integer');
    expect(typeOf('Charindex(s, s2)')).toBe('integer');
    expect(typeOf('Ascii(s)')).toBe('integer');
    expect(typeOf('Left(s, i)')).toBe('string');
    expect(typeOf('ToString(ts)')).toBe('string');
    expect(typeOf('AllNonNull3(s, i, dt)')).toBe('boolean');
    expect(typeOf('upper(NULL)')).toBe('string');
    const refused: Array<[string, RegExp]> = [
      ['Lower(i)', /Lower\(integer\) does not match Lower\(string\)/],
      ['Upper(s, s2)', /does not match Upper\(string\)/],
      ['Length()', /does not match Length\(string\)/],
      ['Left(s)', /does not match Left\(string, integer\)/],
      ['Left(s, d)', /Left\(string, decimal\) does not match/],
      ['Substring(s, 1)', /does not match Substring\(string, integer, integer\)/],
      ['Replace(s, 1, 2)', /does not match Replace\(string, string, string\)/],
      ["LPad(s, '3', '0')", /does not match LPad\(string, integer, string\)/],
      ['Char(s)', /Char\(string\) does not match Char\(integer\)/],
      ['Charindex(s, i)', /does not match Charindex\(string, string\)/],
      ['Md5Digest(b)', /does not match Md5Digest\(string\)/],
      ['JuxtWords(s, i)', /does not match JuxtWords\(string, string\)/],
      ['JuxtWords3(s, s2)', /does not match JuxtWords3/],
      ['AllNonNull2(s)', /does not match AllNonNull2\(any, any\)/],
      ['ToString(s, i)', /does not match ToString\(any\)/],
    ];
    for (const [source, message] of refused) expect(() => typeOf(source), source).toThrow(message);
  });

  it('catalogues every function of the family', () => {
    expect(STRING_FUNCTIONS.map((f) => f.name)).toEqual([
      'Lower',
      'Upper',
      'Length',
      'Left',
      'Right',
      'Substring',
      'Replace',
      'Ltrim',
      'Rtrim',
      'Trim',
      'LPad',
      'RPad',
      'Smart',
      'Charindex',
      'GetEmailDomain',
      'ToString',
      'Md5Digest',
      'Sha256Digest',
      'Ascii',
      'Char',
      'JuxtWords',
      'JuxtWords3',
      'AllNonNull2',
      'AllNonNull3',
    ]);
    for (const f of STRING_FUNCTIONS) {
      expect(f.category).toBe('string');
      // Examples name a marketing schema's columns: as the harness's text column, they must check.
      expect(typeOf(f.example.replace(/[a-z_]+(?=[,)])/g, 's')), f.example).toBeTruthy();
    }
  });
});

describeEachDatabase('string functions', (t) => {
  beforeAll(() => loadHarness(t));

  it('gives NULL for NULL arguments, except JuxtWords and AllNonNull', async () => {
    for (const f of STRING_FUNCTIONS) {
      const source = `${f.name}(${f.signatures[0]!.params.map(() => 'NULL').join(', ')})`;
      const expected = f.name.startsWith('JuxtWords') ? '' : f.name.startsWith('AllNonNull') ? false : null;
      expect(await valueOf(t, source), source).toBe(expected);
    }
  });

  it('Lower and Upper map each character to one character', async () => {
    const upper = await expectAgree(t, 'Upper(s)');
    expect(upper.get(4)).toBe('ZOË ÜNÏCØDÉ 日本 🎉');
    expect(upper.get(8)).toBe('ß STRAßE İSTANBUL');
    expect(upper.get(3)).toBeNull();
    const lower = await expectAgree(t, 'Lower(s)');
    expect(lower.get(6)).toBe('john.doe@example.com');
    expect(lower.get(8)).toBe('ß straße istanbul');
    await expectAgree(t, 'Lower(s2) + Upper(s2)');
    await expectAgree(t, 'Length(Upper(s)) = Length(s) AND Length(Lower(s)) = Length(s)');
    expect(await valueOf(t, "Upper('ǆ ǅ ς ß ŉ ﬀ ᾳ ᾀ ɐ 𐐨')")).toBe('Ǆ Ǆ Σ ß ŉ ﬀ ᾼ ᾈ Ɐ 𐐀');
    expect(await valueOf(t, "Lower('ΟΔΟΣ İ ǅ Ǆ ẞ Ⅻ 𐐀')")).toBe('οδοσ i ǆ ǆ ß ⅻ 𐐨');
  });

  it('Lower, Upper and Smart agree on every character', async ({ skip }) => {
    // PostgreSQL's case tables and regular expression classes against the evaluator's, for every code
    // point (Smart's text puts each after an 'x', so it says whether it is a word character); then, one
    // at a time so that Smart takes its initcap() path where it can, the characters up to U+2FFF.
    // SQLite runs the evaluator's own code.
    if (t.database.kind === 'sqlite') skip();
    const ctx: SqlContext = {
      kind: t.database.kind,
      param: (value, type) => sqlParam(t.database.kind, value, type),
      now: () => sqlParam(t.database.kind, HARNESS_NOW, 'datetime'),
    };
    const fn = (name: string) => STRING_FUNCTIONS.find((f) => f.name === name)!;
    const call = (name: string, text: RawBuilder<unknown>) =>
      fn(name).sql([{ sql: text, type: 'string' }], ctx);
    const evaluate = (name: string, text: string) =>
      fn(name).evaluate([text], { now: HARNESS_NOW }, ['string']);
    const chunks = await sql<{ first: number; chars: string; upper: string; lower: string; smart: string }>`
      SELECT first, chars, ${call('Upper', sql`chars`)} AS upper, ${call('Lower', sql`chars`)} AS lower,
        ${call('Smart', sql`words`)} AS smart
      FROM (SELECT min(c) AS first, string_agg(chr(c), '' ORDER BY c) AS chars,
          string_agg('x' || chr(c), '' ORDER BY c) AS words
        FROM generate_series(1, 1114111) AS c WHERE c NOT BETWEEN 55296 AND 57343 GROUP BY c / 8192) AS chunk`.execute(
      t.database.db,
    );
    expect(chunks.rows).toHaveLength(136);
    for (const { first, chars, upper, lower, smart } of chunks.rows) {
      expect(upper === evaluate('Upper', chars), `Upper from U+${first.toString(16)}`).toBe(true);
      expect(lower === evaluate('Lower', chars), `Lower from U+${first.toString(16)}`).toBe(true);
      const words = Array.from(chars, (char) => `x${char}`).join('');
      expect(smart === evaluate('Smart', words), `Smart from U+${first.toString(16)}`).toBe(true);
    }
    const single = await sql<{ text: string; smart: string }>`
      SELECT text, ${call('Smart', sql`text`)} AS smart
      FROM (SELECT chr(c) || 'x' || chr(c) || 'x' AS text FROM generate_series(1, 12287) AS c) AS one`.execute(
      t.database.db,
    );
    for (const { text, smart } of single.rows) expect(smart, text).toBe(evaluate('Smart', text));
  });

  it('Length counts code points', async () => {
    const values = await expectAgree(t, 'Length(s)');
    expect(Object.fromEntries(values)).toEqual({ 1: 11, 2: 0, 3: null, 4: 16, 5: 10, 6: 20, 7: 31, 8: 17 });
    expect(await valueOf(t, "Length('🎉👍🏽')")).toBe(3);
  });

  it('Left, Right and Substring cut in code points and never fail on odd numbers', async () => {
    for (const source of [
      'Left(s, i)',
      'Left(s, i2)',
      'Right(s, i)',
      'Right(s, i2)',
      'Substring(s, i2, i)',
      'Substring(s, i, i2)',
      'Substring(s, i2, i2)',
      'Substring(s, -i, i2)',
      'Left(s, -i) + Right(s, -i)',
    ]) {
      await expectAgree(t, source);
    }
    expect((await expectAgree(t, 'Left(s, i2)')).get(4)).toBe('Zoë ');
    expect((await expectAgree(t, 'Right(s, i2)')).get(4)).toBe('日本 🎉');
    expect((await expectAgree(t, 'Substring(s, i2, i2)')).get(4)).toBe(' Ünï');
    const cases: Array<[string, Value]> = [
      ["Left('a🎉b', 2)", 'a🎉'],
      ["Right('a🎉b', 2)", '🎉b'],
      ["Left('abc', 0)", ''],
      ["Left('abc', -1)", ''],
      ["Left('abc', 9007199254740991)", 'abc'],
      ["Right('abc', 0)", ''],
      ["Right('abc', -2)", ''],
      ["Right('abc', 9007199254740991)", 'abc'],
      ["Right('abc', -9007199254740991)", ''],
      ["Substring('a🎉cdef', 2, 3)", '🎉cd'],
      ["Substring('abcdef', 0, 3)", 'abc'],
      ["Substring('abcdef', -5, 3)", 'abc'],
      ["Substring('abcdef', 5, 10)", 'ef'],
      ["Substring('abcdef', 7, 1)", ''],
      ["Substring('abcdef', 2, 0)", ''],
      ["Substring('abcdef', 2, -1)", ''],
      ["Substring('abcdef', 2, 9007199254740991)", 'bcdef'],
      ["Substring('abcdef', 9007199254740991, 9007199254740991)", ''],
      ["Substring('abc', 1, NULL)", null],
      ['Left(NULL, 2)', null],
      ["Right('abc', NULL)", null],
    ];
    for (const [source, expected] of cases) expect(await valueOf(t, source), source).toBe(expected);
  });

  it('Replace replaces every occurrence, case-sensitively and literally', async () => {
    await expectAgree(t, "Replace(s, s2, '<>')");
    await expectAgree(t, 'Replace(s, s2, s)');
    expect((await expectAgree(t, "Replace(s, 'o', '0')")).get(1)).toBe('Hell0 W0rld');
    const cases: Array<[string, Value]> = [
      ["Replace('aaa', 'aa', 'b')", 'ba'],
      ["Replace('Abab', 'a', 'x')", 'Abxb'],
      ["Replace('abc', '', 'x')", 'abc'],
      ["Replace('a.b', '.', '$&$1')", 'a$&$1b'],
      ["Replace('x🎉y🎉', '🎉', '')", 'xy'],
      ["Replace('abc', 'b', NULL)", null],
    ];
    for (const [source, expected] of cases) expect(await valueOf(t, source), source).toBe(expected);
  });

  it('Ltrim, Rtrim and Trim remove whitespace of every kind, and nothing else', async () => {
    expect((await expectAgree(t, "'[' + Trim(s) + ']'")).get(5)).toBe('[padded]');
    expect((await expectAgree(t, "'[' + Ltrim(s) + ']'")).get(5)).toBe('[padded  ]');
    expect((await expectAgree(t, "'[' + Rtrim(s) + ']'")).get(5)).toBe('[  padded]');
    const messy = ' \t\n\r\u00a0\u2003\u200b\ufeff\u3000 a \u00a0b\t \u202f\u2028';
    expect(await valueOf(t, 'Trim(vars.x)', bind(messy))).toBe('a \u00a0b');
    expect(await valueOf(t, 'Ltrim(vars.x)', bind(messy))).toBe('a \u00a0b\t \u202f\u2028');
    expect(await valueOf(t, 'Rtrim(vars.x)', bind(messy))).toBe(
      ' \t\n\r\u00a0\u2003\u200b\ufeff\u3000 a \u00a0b',
    );
    expect(await valueOf(t, 'Trim(vars.x)', bind('_x_\u00ad'))).toBe('_x_\u00ad');
    expect(await valueOf(t, 'Trim(vars.x)', bind(' \u3000 '))).toBe('');
  });

  it('LPad and RPad fill to a width, cut longer texts, and keep widths sane', async () => {
    for (const source of [
      'LPad(s, i, s2)',
      'RPad(s, i, s2)',
      'LPad(s, i2, s2)',
      'RPad(s, i2, s)',
      "LPad(s, i2 * 6, '🎉x')",
      "RPad(s, 20, '·')",
    ]) {
      await expectAgree(t, source);
    }
    expect((await expectAgree(t, "LPad(s, 20, '·')")).get(4)).toBe('····Zoë Ünïcødé 日本 🎉');
    const cases: Array<[string, Value]> = [
      ["LPad('7', 3, '0')", '007'],
      ["RPad('ab', 7, 'xyz')", 'abxyzxy'],
      ["LPad('ab', 5, '🎉x')", '🎉x🎉ab'],
      ["LPad('hello', 2, 'x')", 'he'],
      ["RPad('hello', 2, 'x')", 'he'],
      ["LPad('ab', 5, '')", 'ab'],
      ["RPad('hello', 2, '')", 'he'],
      ["LPad('ab', 0, 'x')", ''],
      ["RPad('ab', -3, 'x')", ''],
      ["LPad('ab', 5, NULL)", null],
      ["RPad('ab', NULL, 'x')", null],
      ["LPad(NULL, 5, 'x')", null],
    ];
    for (const [source, expected] of cases) expect(await valueOf(t, source), source).toBe(expected);
    const huge = await valueOf(t, "RPad('ab', 9007199254740991, 'xy')");
    expect(huge).toHaveLength(10_000);
    expect((huge as string).slice(0, 6)).toBe('abxyxy');
  });

  it('Smart capitalises every run of letters, marks and digits', async () => {
    const values = await expectAgree(t, 'Smart(s)');
    expect(Object.fromEntries(values)).toEqual({
      1: 'Hello World',
      2: '',
      3: null,
      4: 'Zoë Ünïcødé 日本 🎉',
      5: '  Padded  ',
      6: 'John.Doe@Example.Com',
      7: 'It\'S "Quoted"; Drop Table T; --',
      8: 'ß Straße İstanbul',
    });
    await expectAgree(t, 'Smart(Upper(s) + s2)');
    const cases: Array<[string, Value]> = [
      ["Smart('o''neil-SMITH 3RD x_y mcDONALD')", "O'Neil-Smith 3rd X_Y Mcdonald"],
      ["Smart('jean-PIERRE dupont don''t')", "Jean-Pierre Dupont Don'T"],
      ["Smart('ǆemal ΟΔΟΣ')", 'Ǆemal Οδοσ'],
      ["Smart('élodie/ÅSA🎉bo·ok')", 'Élodie/Åsa🎉Bo·Ok'],
    ];
    for (const [source, expected] of cases) expect(await valueOf(t, source), source).toBe(expected);
    // A decomposed 'É' (E and a combining acute accent) stays one word.
    expect(await valueOf(t, 'Smart(vars.x)', bind('e\u0301COLE'))).toBe('E\u0301cole');
  });

  it('Charindex finds the first occurrence, in code points', async () => {
    const values = await expectAgree(t, 'Charindex(s, s2)');
    expect(Object.fromEntries(values)).toEqual({ 1: 5, 2: 1, 3: null, 4: 0, 5: 4, 6: 0, 7: 3, 8: 0 });
    await expectAgree(t, "Charindex(s, ' ')");
    const cases: Array<[string, Value]> = [
      ["Charindex('🎉a🎉a', 'a')", 2],
      ["Charindex('abc', 'C')", 0],
      ["Charindex('abc', '')", 1],
      ["Charindex('', '')", 1],
      ["Charindex('', 'a')", 0],
    ];
    for (const [source, expected] of cases) expect(await valueOf(t, source), source).toBe(expected);
  });

  it('GetEmailDomain lower-cases what follows the last @', async () => {
    const values = await expectAgree(t, 'GetEmailDomain(s)');
    expect(values.get(6)).toBe('example.com');
    expect([1, 2, 3, 4, 5, 7, 8].map((id) => values.get(id))).toEqual(Array(7).fill(null));
    const cases: Array<[string, Value]> = [
      ['GetEmailDomain(\'"a@b"@ÉXAMPLE.Org\')', 'éxample.org'],
      ["GetEmailDomain('a@')", ''],
      ["GetEmailDomain('@@')", ''],
      ["GetEmailDomain('no-at.example.com')", null],
      ["GetEmailDomain('Jo@Straße.DE')", 'straße.de'],
    ];
    for (const [source, expected] of cases) expect(await valueOf(t, source), source).toBe(expected);
  });

  it('ToString prints every type', async () => {
    for (const column of ['s', 'i', 'i2', 'd', 'd2', 'b', 'dt', 'dt2', 'ts', 'ts2']) {
      await expectAgree(t, `ToString(${column})`);
    }
    expect(Object.fromEntries(await expectAgree(t, 'ToString(d)'))).toEqual({
      1: '12.5',
      2: '-2.675',
      3: null,
      4: '0.005',
      5: '1e-7',
      6: '99.99',
      7: '2.5',
      8: '1234567.891',
    });
    const row = async (source: string) => (await expectAgree(t, source)).get(1);
    expect(await row('ToString(i)')).toBe('42');
    expect(await row('ToString(d2 + 0.2)')).toBe('0.30000000000000004');
    expect(await row('ToString(b)')).toBe('true');
    expect((await expectAgree(t, 'ToString(b)')).get(2)).toBe('false');
    expect(await row('ToString(dt)')).toBe('2024-02-29');
    expect(await row('ToString(ts)')).toBe('2026-11-28T10:15:30.250Z');
    expect(await row('ToString(d2 * 30)')).toBe('3');
    expect(await valueOf(t, 'ToString(NULL)')).toBeNull();
    const decimals: Array<[number, string]> = [
      [0, '0'],
      [-0, '0'],
      [100, '100'],
      [1e-6, '0.000001'],
      [9.99e-7, '9.99e-7'],
      [-1.5e-7, '-1.5e-7'],
      [5e-324, '5e-324'],
      [123.456, '123.456'],
      [1e15, '1000000000000000'],
      [123456789012345680000, '123456789012345680000'],
      [1e21, '1e+21'],
      [-1.2345e25, '-1.2345e+25'],
      [1.7976931348623157e308, '1.7976931348623157e+308'],
      [2 ** 53 + 2, '9007199254740994'],
      [0.1 + 0.7, '0.7999999999999999'],
    ];
    for (const [value, expected] of decimals) {
      expect(await valueOf(t, 'ToString(vars.x)', bind(value, 'decimal')), String(value)).toBe(expected);
    }
    // Random doubles of every magnitude: the shortest round-trip digits, formatted as JavaScript does.
    const random = Array.from({ length: 200 }, (_, i) => (Math.random() - 0.5) * 10 ** ((i % 60) - 30));
    for (const value of random) {
      expect(await valueOf(t, 'ToString(vars.x)', bind(value, 'decimal')), String(value)).toBe(String(value));
    }
    expect(await valueOf(t, 'ToString(vars.x)', bind(-9007199254740991, 'integer'))).toBe(
      '-9007199254740991',
    );
    expect(
      await valueOf(t, 'ToString(vars.x)', bind(Date.parse('0001-01-01T00:00:00.005Z'), 'datetime')),
    ).toBe('0001-01-01T00:00:00.005Z');
  });

  it('Md5Digest and Sha256Digest hash the UTF-8 bytes', async () => {
    await expectAgree(t, 'Md5Digest(s)');
    await expectAgree(t, 'Sha256Digest(s)');
    const cases: Array<[string, Value]> = [
      ["Md5Digest('')", 'd41d8cd98f00b204e9800998ecf8427e'],
      ["Md5Digest('abc')", '900150983cd24fb0d6963f7d28e17f72'],
      ["Md5Digest('é')", '66ddcd97cfdeabb2f6fb8a999b4bc76f'],
      ["Sha256Digest('')", 'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855'],
      ["Sha256Digest('abc')", 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'],
      ["Sha256Digest('🎉')", '6146299cd54818a0e659eb6ac88e80f6f8f70536bbbd962d36973f2d2323f26c'],
    ];
    for (const [source, expected] of cases) expect(await valueOf(t, source), source).toBe(expected);
  });

  it('Ascii and Char convert between characters and code points', async () => {
    const ascii = await expectAgree(t, 'Ascii(s)');
    expect(Object.fromEntries(ascii)).toEqual({
      1: 72,
      2: null,
      3: null,
      4: 90,
      5: 32,
      6: 106,
      7: 105,
      8: 223,
    });
    await expectAgree(t, 'Char(i)');
    await expectAgree(t, 'Char(i2 + 60)');
    await expectAgree(t, 'Char(Ascii(s))');
    expect(await valueOf(t, "Ascii('🎉!')")).toBe(127881);
    const cases: Array<[string, Value]> = [
      ['Char(65)', 'A'],
      ['Char(127881)', '🎉'],
      ['Char(1114111)', '\u{10ffff}'],
      ['Char(0)', null],
      ['Char(-65)', null],
      ['Char(55296)', null],
      ['Char(57343)', null],
      ['Char(1114112)', null],
      ['Char(9007199254740991)', null],
    ];
    for (const [source, expected] of cases) expect(await valueOf(t, source), source).toBe(expected);
  });

  it('JuxtWords joins with spaces, leaving out NULL and empty texts', async () => {
    const two = await expectAgree(t, 'JuxtWords(s, s2)');
    expect(two.get(1)).toBe('Hello World o');
    expect(two.get(2)).toBe('');
    expect(two.get(3)).toBe('');
    await expectAgree(t, 'JuxtWords3(s2, s, ref.region)');
    await expectAgree(t, 'JuxtWords3(NULL, s, s)');
    const cases: Array<[string, Value]> = [
      ["JuxtWords('Ada', 'Lovelace')", 'Ada Lovelace'],
      ["JuxtWords('Ada', NULL)", 'Ada'],
      ["JuxtWords('', 'Lovelace')", 'Lovelace'],
      ['JuxtWords(NULL, NULL)', ''],
      ["JuxtWords(' ', 'b')", '  b'],
      ["JuxtWords3('Dr', '', 'Who')", 'Dr Who'],
      ["JuxtWords3(NULL, 'a', NULL)", 'a'],
    ];
    for (const [source, expected] of cases) expect(await valueOf(t, source), source).toBe(expected);
  });

  it('AllNonNull2 and AllNonNull3 are true when no value is NULL', async () => {
    const two = await expectAgree(t, 'AllNonNull2(s, b)');
    expect(Object.fromEntries(two)).toEqual({
      1: true,
      2: true,
      3: false,
      4: true,
      5: true,
      6: true,
      7: true,
      8: false,
    });
    await expectAgree(t, 'AllNonNull3(d, ts, ref.region)');
    await expectAgree(t, 'NOT AllNonNull3(s, i, dt)');
    expect(await valueOf(t, "AllNonNull2('', 0)")).toBe(true);
    expect(await valueOf(t, 'AllNonNull3(1, false, NULL)')).toBe(false);
  });
});
