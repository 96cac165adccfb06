import { createHash } from 'node:crypto';
import { sql, type RawBuilder } from 'kysely';
import type { Value, ValueType } from '../../values.ts';
import type { FunctionDef, SqlArg, SqlContext, SqliteUdf } from './types.ts';

/**
 * Text functions (docs/functions/string.md). A character is a Unicode code point everywhere: both
 * databases count and cut text in code points, and the in-memory side walks strings with `for…of` /
 * `Array.from`, never by UTF-16 unit. Case changes are per character (one code point to one, so lengths
 * never change): PostgreSQL's upper()/lower() under a UTF-8 ctype map character by character with the C
 * library's tables, SQLite's map ASCII only, so SQLite calls the same JavaScript the evaluator runs.
 */

const isPostgres = (ctx: SqlContext) => ctx.kind === 'postgres';

/** The largest argument PostgreSQL's text functions take (they want a 32-bit integer). */
const PG_MAX_INT = 2_147_483_647;

/** LPad/RPad never build more characters than this: a padded code or label is short; a typo is not. */
const MAX_PAD_LENGTH = 10_000;

// ---------------------------------------------------------------------------------------------------
// Case mapping

/**
 * Characters whose case pair Unicode added after version 14.0 (2021). PostgreSQL's case tables come
 * from the C library (glibc 2.36 here, Unicode 14), which leaves them as they are; JavaScript knows the
 * pairs, so it is told to leave them too. All are rare phonetic letters or recent scripts (Garay,
 * Beria Erfe).
 */
const NEWER_CASE_PAIRS: ReadonlyArray<readonly [number, number]> = [
  [0x019b, 0x019b],
  [0x0264, 0x0264],
  [0x1c89, 0x1c8a],
  [0xa7cb, 0xa7cf],
  [0xa7d2, 0xa7d5],
  [0xa7da, 0xa7dc],
  [0x10d50, 0x10d65],
  [0x10d70, 0x10d85],
  [0x16ea0, 0x16eb8],
  [0x16ebb, 0x16ed3],
];

/**
 * Simple (one-character) mappings that JavaScript's full mapping hides behind a longer result: Greek
 * letters with ypogegrammeni upper-case to two letters in full, to their one-letter title form simply;
 * 'İ' lower-cases to 'i' plus a combining dot in full, to 'i' simply. Every other character whose full
 * mapping is longer (ß, ŉ, ligatures…) has no simple mapping and stays as it is.
 */
const SIMPLE_UPPER = new Map<number, number>([
  ...[0x1f80, 0x1f90, 0x1fa0].flatMap((from) =>
    Array.from({ length: 8 }, (_, i) => [from + i, from + 8 + i] as [number, number]),
  ),
  [0x1fb3, 0x1fbc],
  [0x1fc3, 0x1fcc],
  [0x1ff3, 0x1ffc],
]);
const SIMPLE_LOWER = new Map<number, number>([[0x0130, 0x0069]]);

/** Mappings worked out so far, by code point (0: not yet); a fixed 4 MiB each, however varied the text. */
const caseTables: Record<'upper' | 'lower', Uint32Array | undefined> = { upper: undefined, lower: undefined };

function simpleMapping(code: number, to: 'upper' | 'lower'): number {
  if (NEWER_CASE_PAIRS.some(([from, through]) => code >= from && code <= through)) return code;
  const simple = (to === 'upper' ? SIMPLE_UPPER : SIMPLE_LOWER).get(code);
  if (simple !== undefined) return simple;
  const char = String.fromCodePoint(code);
  const full = Array.from(to === 'upper' ? char.toUpperCase() : char.toLowerCase());
  return full.length === 1 ? full[0]!.codePointAt(0)! : code;
}

function mapCharacter(char: string, to: 'upper' | 'lower'): string {
  const table = (caseTables[to] ??= new Uint32Array(0x110000));
  const code = char.codePointAt(0)!;
  if (table[code] === 0) table[code] = simpleMapping(code, to);
  return String.fromCodePoint(table[code]!);
}

const ASCII_ONLY = /^[\0-\x7f]*$/;

/** Per-character case mapping (no final-sigma rule: it would need the neighbours). */
function changeCase(text: string, to: 'upper' | 'lower'): string {
  // JavaScript's own mapping is per character on ASCII, and most text is ASCII.
  if (ASCII_ONLY.test(text)) return to === 'upper' ? text.toUpperCase() : text.toLowerCase();
  let result = '';
  for (const char of text) result += mapCharacter(char, to);
  return result;
}

const lower = (text: string) => changeCase(text, 'lower');
const upper = (text: string) => changeCase(text, 'upper');

/** Letters, combining marks and digits of any script make words; every other character separates them. */
const WORD_CHARACTER = /[\p{L}\p{M}\p{N}]/u;

function smart(text: string): string {
  let result = '';
  let inWord = false;
  for (const char of text) {
    const wordCharacter = WORD_CHARACTER.test(char);
    result += wordCharacter ? (inWord ? lower(char) : upper(char)) : char;
    inWord = wordCharacter;
  }
  return result;
}

let pgWordPattern: string | undefined;

/**
 * A PostgreSQL regular expression matching a run of separators then a word, its character classes
 * spelled as code point ranges taken from JavaScript's `WORD_CHARACTER`: PostgreSQL's own classes
 * ([[:alnum:]], initcap()) follow the C library and disagree on thousands of characters (combining
 * accents, superscript digits, circled numbers…). Built once, on first use (it scans every code point).
 */
function wordPattern(): string {
  if (pgWordPattern !== undefined) return pgWordPattern;
  const escape = (code: number) =>
    code <= 0xffff ? `\\u${code.toString(16).padStart(4, '0')}` : `\\U${code.toString(16).padStart(8, '0')}`;
  const ranges: string[] = [];
  let start = -1;
  for (let code = 0; code <= 0x110000; code++) {
    const word =
      code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) && WORD_CHARACTER.test(String.fromCodePoint(code));
    if (word && start < 0) start = code;
    if (!word && start >= 0) {
      ranges.push(start === code - 1 ? escape(start) : `${escape(start)}-${escape(code - 1)}`);
      start = -1;
    }
  }
  const word = ranges.join('');
  pgWordPattern = `([^${word}]*)([${word}]*)`;
  return pgWordPattern;
}

/**
 * Text made only of these characters (Latin, Greek, Cyrillic, general punctuation; not the superscript
 * digits and fractions of Latin-1, nor combining marks) has the same words for PostgreSQL's initcap() as
 * for `WORD_CHARACTER`, and initcap() is far faster than splitting words with a regular expression.
 */
const INITCAP_SAFE =
  '^[\\u0001-\\u00b1\\u00b4-\\u00b8\\u00ba\\u00bb\\u00bf-\\u02ff\\u0370-\\u0482\\u048a-\\u052f\\u1e00-\\u206f]*$';

function pgSmart(text: RawBuilder<unknown>, ctx: SqlContext): RawBuilder<unknown> {
  // One match per separators-then-word; '' gives one empty match and NULL none, so both hold.
  const byWords = sql`(SELECT string_agg(m[1] || upper(substr(m[2], 1, 1)) || lower(substr(m[2], 2)), '' ORDER BY n)
    FROM regexp_matches(${text}, ${ctx.param(wordPattern(), 'string')}, 'g') WITH ORDINALITY AS words(m, n))`;
  return sql`(CASE WHEN ${text} ~ ${ctx.param(INITCAP_SAFE, 'string')} THEN initcap(${text}) ELSE ${byWords} END)`;
}

// ---------------------------------------------------------------------------------------------------
// Cutting and searching, in code points

const characters = (text: string) => Array.from(text);

function substring(text: string, start: number, length: number): string {
  const from = Math.max(start, 1) - 1;
  return characters(text)
    .slice(from, from + Math.max(length, 0))
    .join('');
}

function right(text: string, count: number): string {
  return count <= 0 ? '' : characters(text).slice(-count).join('');
}

function charIndex(text: string, search: string): number {
  const at = text.indexOf(search);
  return at < 0 ? 0 : characters(text.slice(0, at)).length + 1;
}

/**
 * What Trim removes: Unicode's White_Space characters (spaces of every width, tabs, line breaks,
 * no-break spaces) and the zero-width space and byte order mark, which pasted text often carries
 * invisibly. All lie below U+FFFF, so scanning UTF-16 units is exact.
 */
const WHITESPACE =
  '\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008\u2009\u200a' +
  '\u200b\u2028\u2029\u202f\u205f\u3000\ufeff';

function trim(text: string, ends: 'left' | 'right' | 'both'): string {
  let start = 0;
  let end = text.length;
  if (ends !== 'right') while (start < end && WHITESPACE.includes(text[start]!)) start++;
  if (ends !== 'left') while (end > start && WHITESPACE.includes(text[end - 1]!)) end--;
  return text.slice(start, end);
}

/** PostgreSQL's lpad/rpad: cut to `width` when longer; with an empty fill, never padded. */
function pad(text: string, width: number, fill: string, side: 'left' | 'right'): string {
  const target = Math.min(Math.max(width, 0), MAX_PAD_LENGTH);
  const chars = characters(text);
  if (chars.length >= target || fill === '') return chars.slice(0, target).join('');
  const fillChars = characters(fill);
  const padding = Array.from({ length: target - chars.length }, (_, i) => fillChars[i % fillChars.length]);
  return side === 'left' ? padding.join('') + text : text + padding.join('');
}

function emailDomain(email: string): string | null {
  const at = email.lastIndexOf('@');
  return at < 0 ? null : lower(email.slice(at + 1));
}

/** Code points that are characters both databases can store (no NUL, no UTF-16 surrogate halves). */
const isStorableCodePoint = (code: number) =>
  (code >= 1 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0x10ffff);

const digest = (algorithm: 'md5' | 'sha256', text: string) =>
  createHash(algorithm).update(text, 'utf8').digest('hex');

function toText(value: Exclude<Value, null>, type: ValueType): string {
  switch (type) {
    case 'boolean':
      return value ? 'true' : 'false';
    case 'datetime':
      return new Date(value as number).toISOString();
    default:
      // Numbers print as JavaScript does: integers plainly, decimals in their shortest exact form.
      return String(value);
  }
}

const juxtWords = (parts: Value[]) => parts.filter((p) => p !== null && p !== '').join(' ');

// ---------------------------------------------------------------------------------------------------
// SQL helpers

/** `value` kept within [low, high] as a PostgreSQL integer; NULL stays NULL (GREATEST/LEAST skip it). */
function pgInt(value: RawBuilder<unknown>, low: number, high: number): RawBuilder<unknown> {
  return sql`CAST(CASE WHEN ${value} < ${sql.lit(low)} THEN ${sql.lit(low)} WHEN ${value} > ${sql.lit(high)} THEN ${sql.lit(high)} ELSE ${value} END AS integer)`;
}

/** NULL when any argument is NULL, else `result` (for SQL whose branches would answer anyway). */
function whenAllPresent(args: SqlArg[], result: RawBuilder<unknown>): RawBuilder<unknown> {
  const anyNull = sql.join(
    args.map((a) => sql`${a.sql} IS NULL`),
    sql` OR `,
  );
  return sql`(CASE WHEN ${anyNull} THEN NULL ELSE ${result} END)`;
}

function trimSql(ends: 'left' | 'right' | 'both', [text]: SqlArg[], ctx: SqlContext): RawBuilder<unknown> {
  const set = ctx.param(WHITESPACE, 'string');
  if (ends === 'both')
    return isPostgres(ctx) ? sql`btrim(${text!.sql}, ${set})` : sql`trim(${text!.sql}, ${set})`;
  return ends === 'left' ? sql`ltrim(${text!.sql}, ${set})` : sql`rtrim(${text!.sql}, ${set})`;
}

function padSql(side: 'left' | 'right', args: SqlArg[], ctx: SqlContext): RawBuilder<unknown> {
  const [text, width, fill] = args.map((a) => a.sql) as [
    RawBuilder<unknown>,
    RawBuilder<unknown>,
    RawBuilder<unknown>,
  ];
  if (isPostgres(ctx)) {
    const target = pgInt(width, 0, MAX_PAD_LENGTH);
    return side === 'left' ? sql`lpad(${text}, ${target}, ${fill})` : sql`rpad(${text}, ${target}, ${fill})`;
  }
  const target = sql`min(max(${width}, 0), ${sql.lit(MAX_PAD_LENGTH)})`;
  const missing = sql`(${target} - length(${text}))`;
  // zeroblob(k) in hex is k pairs of zeros: each pair becomes one copy of the fill.
  const padding = sql`substr(replace(hex(zeroblob(${missing})), '00', ${fill}), 1, ${missing})`;
  return whenAllPresent(
    args,
    sql`CASE WHEN ${missing} <= 0 OR ${fill} = '' THEN substr(${text}, 1, ${target}) ELSE ${side === 'left' ? sql`${padding} || ${text}` : sql`${text} || ${padding}`} END`,
  );
}

/**
 * A double as JavaScript prints it, on PostgreSQL. Both print the shortest digits that read back as the
 * same double, but PostgreSQL switches to an exponent at other magnitudes and pads it ('1e-07'): within
 * JavaScript's plain range [1e-6, 1e21) the digits go through numeric, which prints plainly; below it
 * only the padding goes. From 2^53 up, where neighbouring doubles are 2 or more apart, JavaScript also
 * accepts a decimal lying exactly halfway to a neighbour (it reads back as this double by round-half-even),
 * which can be shorter; PostgreSQL never does. So there PostgreSQL's digits are cut to each shorter length,
 * rounded down and up, and the first candidate that reads back wins (the even one when both do), else
 * PostgreSQL's own. Such doubles are whole numbers: digits, then zeros or an exponent from 1e21.
 */
function pgDecimalText(x: RawBuilder<unknown>): RawBuilder<unknown> {
  const double = (literal: string) => sql`CAST(${sql.raw(literal)} AS double precision)`;
  // Candidates are digits s times 10^e; past 1e308 only those below the largest double are read back.
  const readsBack = sql`CASE WHEN length(whole) <= 308 OR s * power(CAST(10 AS numeric), 17 - p) < 17976931348623158
    THEN CAST(s || 'e' || e AS double precision) = abs(${x}) ELSE false END`;
  const wholeNumber = sql`(SELECT CASE WHEN ${x} < 0 THEN '-' ELSE '' END || CASE WHEN length(s) + e <= 21 THEN s || repeat('0', e)
      ELSE left(s, 1) || CASE WHEN length(s) > 1 THEN '.' || substr(s, 2) ELSE '' END || 'e+' || (length(s) + e - 1) END
    FROM (SELECT rtrim(CAST(s AS text), '0') AS s, e + length(CAST(s AS text)) - length(rtrim(CAST(s AS text), '0')) AS e
      FROM (SELECT CAST(trunc(abs(CAST(CAST(${x} AS text) AS numeric))) AS text) AS whole) AS shortest,
        LATERAL (SELECT length(rtrim(whole, '0')) AS digits) AS significant,
        LATERAL generate_series(1, digits) AS p,
        LATERAL (SELECT CAST(left(whole, p) AS bigint) AS down, length(whole) - p AS e) AS cut,
        LATERAL (VALUES (down), (down + 1)) AS candidate(s)
      WHERE (p < digits OR s = down) AND ${readsBack}
      ORDER BY p, s % 2
      LIMIT 1) AS best)`;
  return sql`(CASE
    WHEN abs(${x}) >= ${double('9007199254740992')} AND abs(${x}) < ${double("'Infinity'")} THEN ${wholeNumber}
    WHEN ${x} = 0 OR abs(${x}) >= ${double('1e-6')} THEN CAST(CAST(CAST(${x} AS text) AS numeric) AS text)
    ELSE regexp_replace(CAST(${x} AS text), 'e([-+])0', 'e\\1') END)`;
}

function toTextSql(arg: SqlArg, ctx: SqlContext): RawBuilder<unknown> {
  const pg = isPostgres(ctx);
  const value = arg.sql;
  switch (arg.type) {
    case 'null':
    case 'string':
      return value;
    case 'integer':
      // An integer-valued REAL (SQLite's round() gives those) would print with '.0'.
      return pg ? sql`CAST(${value} AS text)` : sql`CAST(CAST(${value} AS INTEGER) AS TEXT)`;
    case 'decimal':
      return pg ? pgDecimalText(value) : sql`baton_number_text(${value})`;
    case 'boolean':
      return sql`(CASE WHEN ${value} THEN 'true' WHEN NOT ${value} THEN 'false' END)`;
    case 'date':
      return pg ? sql`to_char(${value}, 'YYYY-MM-DD')` : value;
    case 'datetime':
      return pg
        ? sql`to_char(${value} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`
        : sql`strftime('%Y-%m-%dT%H:%M:%fZ', ${value})`;
  }
}

// ---------------------------------------------------------------------------------------------------
// The catalogue

type StringFunction = Omit<FunctionDef, 'category'>;

const stringArg = (args: Value[], i: number) => args[i] as string;
const integerArg = (args: Value[], i: number) => args[i] as number;

const FUNCTIONS: StringFunction[] = [
  {
    name: 'Lower',
    summary: 'the text in lower case, character by character',
    example: 'Lower(email)',
    signatures: [{ params: ['string'], returns: 'string' }],
    sql: ([s], ctx) => (isPostgres(ctx) ? sql`lower(${s!.sql})` : sql`baton_lower(${s!.sql})`),
    evaluate: (args) => lower(stringArg(args, 0)),
  },
  {
    name: 'Upper',
    summary: 'the text in upper case, character by character',
    example: 'Upper(last_name)',
    signatures: [{ params: ['string'], returns: 'string' }],
    sql: ([s], ctx) => (isPostgres(ctx) ? sql`upper(${s!.sql})` : sql`baton_upper(${s!.sql})`),
    evaluate: (args) => upper(stringArg(args, 0)),
  },
  {
    name: 'Length',
    summary: 'the number of characters of the text',
    example: 'Length(postal_code)',
    signatures: [{ params: ['string'], returns: 'integer' }],
    sql: ([s], ctx) => (isPostgres(ctx) ? sql`CAST(length(${s!.sql}) AS bigint)` : sql`length(${s!.sql})`),
    evaluate: (args) => characters(stringArg(args, 0)).length,
  },
  {
    name: 'Left',
    summary: 'the first n characters of the text',
    example: 'Left(postal_code, 2)',
    signatures: [{ params: ['string', 'integer'], returns: 'string' }],
    sql: ([s, n], ctx) =>
      isPostgres(ctx)
        ? sql`left(${s!.sql}, ${pgInt(n!.sql, 0, PG_MAX_INT)})`
        : sql`substr(${s!.sql}, 1, max(${n!.sql}, 0))`,
    evaluate: (args) => substring(stringArg(args, 0), 1, integerArg(args, 1)),
  },
  {
    name: 'Right',
    summary: 'the last n characters of the text',
    example: 'Right(phone, 4)',
    signatures: [{ params: ['string', 'integer'], returns: 'string' }],
    sql: ([s, n], ctx) =>
      isPostgres(ctx)
        ? sql`right(${s!.sql}, ${pgInt(n!.sql, 0, PG_MAX_INT)})`
        : // A start before the first character would count from the end: hold it at 1.
          sql`substr(${s!.sql}, max(length(${s!.sql}) - ${n!.sql} + 1, 1))`,
    evaluate: (args) => right(stringArg(args, 0), integerArg(args, 1)),
  },
  {
    name: 'Substring',
    summary: 'the characters of the text from a position (the first is 1), at most a given number',
    example: 'Substring(account_code, 3, 4)',
    signatures: [{ params: ['string', 'integer', 'integer'], returns: 'string' }],
    sql: ([s, start, length], ctx) =>
      isPostgres(ctx)
        ? sql`substr(${s!.sql}, ${pgInt(start!.sql, 1, PG_MAX_INT)}, ${pgInt(length!.sql, 0, PG_MAX_INT)})`
        : sql`substr(${s!.sql}, max(${start!.sql}, 1), max(${length!.sql}, 0))`,
    evaluate: (args) => substring(stringArg(args, 0), integerArg(args, 1), integerArg(args, 2)),
  },
  {
    name: 'Replace',
    summary: 'the text with every occurrence of a search text replaced',
    example: "Replace(phone, ' ', '')",
    signatures: [{ params: ['string', 'string', 'string'], returns: 'string' }],
    // Both databases leave the text alone when the search text is empty.
    sql: ([s, from, to]) => sql`replace(${s!.sql}, ${from!.sql}, ${to!.sql})`,
    evaluate: (args) => {
      const search = stringArg(args, 1);
      return search === '' ? stringArg(args, 0) : stringArg(args, 0).split(search).join(stringArg(args, 2));
    },
  },
  {
    name: 'Ltrim',
    summary: 'the text without the whitespace at its start',
    example: 'Ltrim(city)',
    signatures: [{ params: ['string'], returns: 'string' }],
    sql: (args, ctx) => trimSql('left', args, ctx),
    evaluate: (args) => trim(stringArg(args, 0), 'left'),
  },
  {
    name: 'Rtrim',
    summary: 'the text without the whitespace at its end',
    example: 'Rtrim(city)',
    signatures: [{ params: ['string'], returns: 'string' }],
    sql: (args, ctx) => trimSql('right', args, ctx),
    evaluate: (args) => trim(stringArg(args, 0), 'right'),
  },
  {
    name: 'Trim',
    summary: 'the text without the whitespace at either end',
    example: 'Trim(city)',
    signatures: [{ params: ['string'], returns: 'string' }],
    sql: (args, ctx) => trimSql('both', args, ctx),
    evaluate: (args) => trim(stringArg(args, 0), 'both'),
  },
  {
    name: 'LPad',
    summary: 'the text filled on the left to n characters (cut to n when longer)',
    example: "LPad(customer_number, 8, '0')",
    signatures: [{ params: ['string', 'integer', 'string'], returns: 'string' }],
    sql: (args, ctx) => padSql('left', args, ctx),
    evaluate: (args) => pad(stringArg(args, 0), integerArg(args, 1), stringArg(args, 2), 'left'),
  },
  {
    name: 'RPad',
    summary: 'the text filled on the right to n characters (cut to n when longer)',
    example: "RPad(first_name, 10, '.')",
    signatures: [{ params: ['string', 'integer', 'string'], returns: 'string' }],
    sql: (args, ctx) => padSql('right', args, ctx),
    evaluate: (args) => pad(stringArg(args, 0), integerArg(args, 1), stringArg(args, 2), 'right'),
  },
  {
    name: 'Smart',
    summary: 'the text with each word capitalised: its first letter in upper case, the rest in lower case',
    example: 'Smart(first_name)',
    signatures: [{ params: ['string'], returns: 'string' }],
    sql: ([s], ctx) => (isPostgres(ctx) ? pgSmart(s!.sql, ctx) : sql`baton_smart(${s!.sql})`),
    evaluate: (args) => smart(stringArg(args, 0)),
  },
  {
    name: 'Charindex',
    summary: 'the position (from 1) of the first occurrence of a search text, 0 when absent',
    example: "Charindex(email, '@')",
    signatures: [{ params: ['string', 'string'], returns: 'integer' }],
    sql: ([s, search], ctx) =>
      isPostgres(ctx)
        ? sql`CAST(strpos(${s!.sql}, ${search!.sql}) AS bigint)`
        : sql`instr(${s!.sql}, ${search!.sql})`,
    evaluate: (args) => charIndex(stringArg(args, 0), stringArg(args, 1)),
  },
  {
    name: 'GetEmailDomain',
    summary: "the lower-cased part of an email address after its last '@' (empty when it has no '@')",
    example: 'GetEmailDomain(email)',
    signatures: [{ params: ['string'], returns: 'string' }],
    sql: ([email], ctx) => {
      const e = email!.sql;
      if (isPostgres(ctx))
        return sql`(CASE WHEN strpos(${e}, '@') > 0 THEN lower(split_part(${e}, '@', -1)) END)`;
      // Trimming every character but '@' from the end leaves the text up to its last '@'.
      return sql`(CASE WHEN instr(${e}, '@') > 0 THEN baton_lower(substr(${e}, length(rtrim(${e}, replace(${e}, '@', ''))) + 1)) END)`;
    },
    evaluate: (args) => emailDomain(stringArg(args, 0)),
  },
  {
    name: 'ToString',
    summary: 'any value as text',
    example: 'ToString(loyalty_points)',
    signatures: [{ params: ['any'], returns: 'string' }],
    sql: ([value], ctx) => toTextSql(value!, ctx),
    evaluate: (args, _ctx, types) => toText(args[0]!, types[0]!),
  },
  {
    name: 'Md5Digest',
    summary: 'the MD5 digest of the text (its UTF-8 bytes), as 32 lower-case hexadecimal digits',
    example: 'Md5Digest(Lower(Trim(email)))',
    signatures: [{ params: ['string'], returns: 'string' }],
    sql: ([s], ctx) =>
      isPostgres(ctx) ? sql`md5(convert_to(${s!.sql}, 'UTF8'))` : sql`baton_md5(${s!.sql})`,
    evaluate: (args) => digest('md5', stringArg(args, 0)),
  },
  {
    name: 'Sha256Digest',
    summary: 'the SHA-256 digest of the text (its UTF-8 bytes), as 64 lower-case hexadecimal digits',
    example: 'Sha256Digest(Lower(Trim(email)))',
    signatures: [{ params: ['string'], returns: 'string' }],
    sql: ([s], ctx) =>
      isPostgres(ctx)
        ? sql`encode(sha256(convert_to(${s!.sql}, 'UTF8')), 'hex')`
        : sql`baton_sha256(${s!.sql})`,
    evaluate: (args) => digest('sha256', stringArg(args, 0)),
  },
  {
    name: 'Ascii',
    summary: "the code point of the text's first character (empty for '')",
    example: 'Ascii(last_name)',
    signatures: [{ params: ['string'], returns: 'integer' }],
    sql: ([s], ctx) =>
      isPostgres(ctx)
        ? sql`(CASE WHEN ${s!.sql} <> '' THEN CAST(ascii(${s!.sql}) AS bigint) END)`
        : sql`unicode(${s!.sql})`,
    evaluate: (args) => stringArg(args, 0).codePointAt(0) ?? null,
  },
  {
    name: 'Char',
    summary: 'the character with a given code point (empty when there is none)',
    example: 'Char(65)',
    signatures: [{ params: ['integer'], returns: 'string' }],
    sql: ([n], ctx) => {
      const code = n!.sql;
      const character = isPostgres(ctx) ? sql`chr(CAST(${code} AS integer))` : sql`char(${code})`;
      return sql`(CASE WHEN ${code} BETWEEN 1 AND 55295 OR ${code} BETWEEN 57344 AND 1114111 THEN ${character} END)`;
    },
    evaluate: (args) =>
      isStorableCodePoint(integerArg(args, 0)) ? String.fromCodePoint(integerArg(args, 0)) : null,
  },
  {
    name: 'JuxtWords',
    summary: 'the two texts joined by a space, leaving out empty ones',
    example: 'JuxtWords(first_name, last_name)',
    signatures: [{ params: ['string', 'string'], returns: 'string' }],
    nullPropagating: false,
    sql: (args) => juxtWordsSql(args),
    evaluate: juxtWords,
  },
  {
    name: 'JuxtWords3',
    summary: 'the three texts joined by spaces, leaving out empty ones',
    example: 'JuxtWords3(title, first_name, last_name)',
    signatures: [{ params: ['string', 'string', 'string'], returns: 'string' }],
    nullPropagating: false,
    sql: (args) => juxtWordsSql(args),
    evaluate: juxtWords,
  },
  {
    name: 'AllNonNull2',
    summary: 'true when neither value is empty (NULL)',
    example: 'AllNonNull2(first_name, last_name)',
    signatures: [{ params: ['any', 'any'], returns: 'boolean' }],
    nullPropagating: false,
    sql: (args) => allPresentSql(args),
    evaluate: (args) => args.every((a) => a !== null),
  },
  {
    name: 'AllNonNull3',
    summary: 'true when none of the three values is empty (NULL)',
    example: 'AllNonNull3(street, postal_code, city)',
    signatures: [{ params: ['any', 'any', 'any'], returns: 'boolean' }],
    nullPropagating: false,
    sql: (args) => allPresentSql(args),
    evaluate: (args) => args.every((a) => a !== null),
  },
];

/** concat_ws skips NULLs on both databases; NULLIF makes empty texts NULL too. */
function juxtWordsSql(args: SqlArg[]): RawBuilder<unknown> {
  return sql`concat_ws(' ', ${sql.join(args.map((a) => sql`NULLIF(${a.sql}, '')`))})`;
}

function allPresentSql(args: SqlArg[]): RawBuilder<unknown> {
  return sql`(${sql.join(
    args.map((a) => sql`${a.sql} IS NOT NULL`),
    sql` AND `,
  )})`;
}

export const STRING_FUNCTIONS: FunctionDef[] = FUNCTIONS.map((f) => ({ ...f, category: 'string' }));

/** UDFs receive NULL too: they propagate it, as the functions they serve do. */
const onText =
  (fn: (text: string) => string) =>
  (value: string | null): string | null =>
    value === null ? null : fn(value);

export const STRING_SQLITE_UDFS: SqliteUdf[] = [
  { name: 'baton_lower', fn: onText(lower) },
  { name: 'baton_upper', fn: onText(upper) },
  { name: 'baton_smart', fn: onText(smart) },
  { name: 'baton_md5', fn: onText((t) => digest('md5', t)) },
  { name: 'baton_sha256', fn: onText((t) => digest('sha256', t)) },
  {
    name: 'baton_number_text',
    fn: (value: number | null) => (value === null ? null : toText(value, 'decimal')),
  },
];
