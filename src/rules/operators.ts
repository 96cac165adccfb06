import { sql, type RawBuilder } from 'kysely';
import type { DatabaseKind } from '../db/bulk-values.ts';
import { compareOp } from './expression/evaluate.ts';
import { comparisonSql } from './expression/to-sql.ts';
import type { Value, ValueType } from './values.ts';

/**
 * The rule operators. Each negative operator is the exact complement of a positive one — `ne` of `eq`,
 * `notIn` of `in`, `isNotEmpty` of `isEmpty`, `notStartsWith`, `notContains`, `notLike` — so a value and
 * its negation always split a population into two parts that add up: a row whose field is empty is
 * "not equal to X", "not in" any list and "does not contain" anything. All string operators are
 * case-sensitive; `like` takes `%` (any run of characters), `_` (one character) and `\` (escape the next
 * character). Semantics are documented in docs/rules.md and identical on both databases and in memory.
 */
export const OPERATORS = [
  'eq',
  'ne',
  'gt',
  'gte',
  'lt',
  'lte',
  'in',
  'notIn',
  'between',
  'isEmpty',
  'isNotEmpty',
  'startsWith',
  'notStartsWith',
  'contains',
  'notContains',
  'like',
  'notLike',
] as const;
export type Operator = (typeof OPERATORS)[number];

export type BaseOperator =
  'eq' | 'gt' | 'gte' | 'lt' | 'lte' | 'in' | 'between' | 'isEmpty' | 'startsWith' | 'contains' | 'like';

const NEGATIONS: Partial<Record<Operator, BaseOperator>> = {
  ne: 'eq',
  notIn: 'in',
  isNotEmpty: 'isEmpty',
  notStartsWith: 'startsWith',
  notContains: 'contains',
  notLike: 'like',
};

/** An operator as its positive form and whether it is negated. */
export function baseOf(op: Operator): { base: BaseOperator; negated: boolean } {
  const negation = NEGATIONS[op];
  return negation ? { base: negation, negated: true } : { base: op as BaseOperator, negated: false };
}

/** How many values an operator takes: a number, or 'list' (one or more). */
export function valueArity(base: BaseOperator): number | 'list' {
  switch (base) {
    case 'isEmpty':
      return 0;
    case 'in':
      return 'list';
    case 'between':
      return 2;
    default:
      return 1;
  }
}

/** Why an operator does not apply to a type, or undefined when it does. */
export function operatorMismatch(op: Operator, type: ValueType): string | undefined {
  const { base } = baseOf(op);
  if ((base === 'startsWith' || base === 'contains' || base === 'like') && type !== 'string') {
    return `${op} applies to text; this is a ${type}`;
  }
  if (['gt', 'gte', 'lt', 'lte', 'between'].includes(base) && type === 'boolean') {
    return `${op} does not apply to a boolean; use eq`;
  }
  return undefined;
}

/** A `like` pattern as a SQLite GLOB pattern (case-sensitive, unlike SQLite's LIKE). */
function likeToGlob(pattern: string): string {
  let glob = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) {
      const next = pattern[++i]!;
      glob += next === '*' || next === '?' || next === '[' ? `[${next}]` : next;
    } else if (ch === '%') glob += '*';
    else if (ch === '_') glob += '?';
    else if (ch === '*' || ch === '?' || ch === '[') glob += `[${ch}]`;
    else glob += ch;
  }
  return glob;
}

/** A `like` pattern as an anchored regular expression over code points. */
export function likeToRegExp(pattern: string): RegExp {
  let source = '';
  for (let i = 0; i < pattern.length; i++) {
    const ch = pattern[i]!;
    if (ch === '\\' && i + 1 < pattern.length) source += escapeRegExp(pattern[++i]!);
    else if (ch === '%') source += '.*';
    else if (ch === '_') source += '.';
    else source += escapeRegExp(ch);
  }
  return new RegExp(`^${source}$`, 'su');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/-]/g, '\\$&');
}

/** Why a `like` pattern is malformed, or undefined. */
export function likePatternProblem(pattern: string): string | undefined {
  let escaped = false;
  for (const ch of pattern) escaped = !escaped && ch === '\\';
  return escaped ? 'a like pattern must not end with a lone \\ (write \\\\ for a backslash)' : undefined;
}

export interface OperatorSqlInput {
  kind: DatabaseKind;
  base: BaseOperator;
  left: RawBuilder<unknown>;
  values: Array<RawBuilder<unknown>>;
  /** The literal pattern of `like` (SQLite rewrites it for GLOB). */
  pattern?: string;
  /** For `like` on SQLite: the pattern as a parameter, already rewritten. */
  globPattern?: (glob: string) => RawBuilder<unknown>;
  type: ValueType;
}

/** The positive condition as SQL; it is NULL (not true) when the left side is NULL. */
export function operatorSql(input: OperatorSqlInput): RawBuilder<unknown> {
  const { kind, base, left, values, type } = input;
  switch (base) {
    case 'eq':
      return sql`${left} = ${values[0]!}`;
    case 'gt':
      return comparisonSql('>', left, values[0]!, type, kind);
    case 'gte':
      return comparisonSql('>=', left, values[0]!, type, kind);
    case 'lt':
      return comparisonSql('<', left, values[0]!, type, kind);
    case 'lte':
      return comparisonSql('<=', left, values[0]!, type, kind);
    case 'in':
      return sql`${left} IN (${sql.join(values)})`;
    case 'between':
      return sql`(${comparisonSql('>=', left, values[0]!, type, kind)} AND ${comparisonSql('<=', left, values[1]!, type, kind)})`;
    case 'isEmpty':
      return type === 'string' ? sql`(${left} IS NULL OR ${left} = '')` : sql`${left} IS NULL`;
    case 'startsWith':
      return sql`substr(${left}, 1, length(${values[0]!})) = ${values[0]!}`;
    case 'contains':
      return kind === 'postgres'
        ? sql`strpos(${left}, ${values[0]!}) > 0`
        : sql`instr(${left}, ${values[0]!}) > 0`;
    case 'like':
      if (kind === 'postgres') return sql`${left} LIKE ${values[0]!}`;
      return sql`${left} GLOB ${input.globPattern!(likeToGlob(input.pattern!))}`;
  }
}

/** The positive condition in memory: false (never NULL) when the left side or a value is NULL. */
export function operatorHolds(base: BaseOperator, left: Value, values: Value[]): boolean {
  if (base === 'isEmpty') return left === null || left === '';
  if (left === null || values.some((v) => v === null)) {
    // A list may hold a NULL among others (from expressions): it matches nothing, as SQL's IN does.
    if (base !== 'in' || left === null) return false;
  }
  switch (base) {
    case 'eq':
      return compareOp('=', left, values[0]!) === true;
    case 'gt':
      return compareOp('>', left, values[0]!) === true;
    case 'gte':
      return compareOp('>=', left, values[0]!) === true;
    case 'lt':
      return compareOp('<', left, values[0]!) === true;
    case 'lte':
      return compareOp('<=', left, values[0]!) === true;
    case 'in':
      return values.some((v) => compareOp('=', left, v) === true);
    case 'between':
      return compareOp('>=', left, values[0]!) === true && compareOp('<=', left, values[1]!) === true;
    case 'startsWith':
      return (left as string).startsWith(values[0] as string);
    case 'contains':
      return (left as string).includes(values[0] as string);
    case 'like':
      return likeToRegExp(values[0] as string).test(left as string);
  }
}
