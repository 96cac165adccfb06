import { ValidationError, type Issue } from '../errors.ts';
import type { ColumnDef, TableDef, WorkspaceSchema } from '../schema/types.ts';
import { expandBuiltInFilter } from './built-in-filters.ts';
import { checkExpression, widenTo, type TypedExpr } from './expression/check.ts';
import { AGGREGATE_DEFS, AGGREGATES, type AggregateName } from './expression/functions/aggregate.ts';
import { ExpressionError } from './expression/syntax.ts';
import {
  baseOf,
  likePatternProblem,
  operatorMismatch,
  OPERATORS,
  valueArity,
  type Operator,
} from './operators.ts';
import type { CheckedRule, Operand, RuleParameters } from './rule.ts';
import { Scope } from './scope.ts';
import { asWritten } from './system-links.ts';
import { comparisonType, MAX_DATETIME, MIN_DATETIME, type Value, type ValueType } from './values.ts';

/**
 * Checks a rule (parsed JSON or YAML, so of unknown shape) against the workspace schema and types it.
 * Every problem is collected with the path of the part at fault (`and[1].where.value`), so a rule with
 * several mistakes is reported whole, once.
 */
export interface RuleCheckOptions {
  /** Declared parameters (a saved filter's, a signal's variables) with their types. */
  parameters?: RuleParameters;
  /**
   * Only the declared parameters exist (a reconciliation's, which are the loaded file's columns); the
   * text says what they are, for the message about any other (`the file's columns`).
   */
  closed?: string;
  /** Columns the rows carry beside the dimension's (an enrichment's), which the rule may name. */
  carried?: ReadonlyArray<Pick<ColumnDef, 'name' | 'type'>>;
}

export interface CheckedRuleResult {
  rule: CheckedRule;
  dimension: TableDef;
  /** Every parameter the rule uses, declared or inferred from what it is compared with. */
  parameters: RuleParameters;
}

const MAX_DEPTH = 32;
const MAX_CONDITIONS = 1000;
const MAX_LIST = 10_000;

const ISO_DATE = /^(\d{4})-(\d{2})-(\d{2})$/;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function validDate(text: string): boolean {
  const m = ISO_DATE.exec(text);
  if (!m) return false;
  const ms = Date.UTC(Number(m[1]), Number(m[2]) - 1, Number(m[3]));
  return new Date(ms).toISOString().slice(0, 10) === text && Number(m[1]) >= 1;
}

/** A literal of the rule as a value of `type`, or what is wrong with it. */
export function literalFor(type: ValueType, raw: unknown): { value: Value } | { problem: string } {
  const wrong = (expected: string) => ({ problem: `expected ${expected}, got ${JSON.stringify(raw)}` });
  switch (type) {
    case 'string':
      if (typeof raw !== 'string') return wrong('text');
      // No stored text holds NUL (imports refuse it), and PostgreSQL refuses it in a parameter.
      return raw.includes('\u0000')
        ? { problem: 'text cannot contain the NUL character (U+0000)' }
        : { value: raw };
    case 'integer': {
      const n = typeof raw === 'string' && /^\s*-?\d+\s*$/.test(raw) ? Number(raw) : raw;
      return typeof n === 'number' && Number.isSafeInteger(n) ? { value: n } : wrong('a whole number');
    }
    case 'decimal': {
      const n = typeof raw === 'string' && raw.trim() !== '' ? Number(raw) : raw;
      return typeof n === 'number' && Number.isFinite(n) ? { value: n } : wrong('a number');
    }
    case 'boolean':
      return typeof raw === 'boolean' ? { value: raw } : wrong('true or false');
    case 'date':
      return typeof raw === 'string' && validDate(raw) ? { value: raw } : wrong('a date as YYYY-MM-DD');
    case 'datetime': {
      if (typeof raw !== 'string') return wrong('a date-time such as 2026-03-01T09:30:00Z');
      if (validDate(raw)) return { value: Date.parse(`${raw}T00:00:00Z`) };
      const text = raw.trim().replace(' ', 'T');
      const iso = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/i.test(text);
      const ms = iso ? Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(text) ? text : `${text}Z`) : NaN;
      return ms >= MIN_DATETIME && ms <= MAX_DATETIME
        ? { value: ms }
        : wrong('a date-time of the years 0001 to 9999 such as 2026-03-01T09:30:00Z');
    }
    case 'null':
      return { value: null };
  }
}

class RuleChecker {
  readonly issues: Issue[] = [];
  readonly parameters: RuleParameters;
  private conditions = 0;

  constructor(
    private readonly schema: WorkspaceSchema,
    declared: RuleParameters,
    private readonly closed: string | undefined,
  ) {
    this.parameters = { ...declared };
  }

  private add(path: string, message: string): undefined {
    this.issues.push({ path, message });
    return undefined;
  }

  check(raw: unknown, scope: Scope, path: string, depth = 0): CheckedRule | undefined {
    if (depth > MAX_DEPTH) return this.add(path, `groups nest deeper than ${MAX_DEPTH} levels`);
    if (++this.conditions > MAX_CONDITIONS) {
      return this.conditions === MAX_CONDITIONS + 1
        ? this.add(path, `a rule holds at most ${MAX_CONDITIONS} conditions`)
        : undefined;
    }
    if (!isRecord(raw))
      return this.add(path, 'expected a condition or a group ({ and: [...] }, { field, op, value }…)');
    const kinds = [
      'and',
      'or',
      'except',
      'field',
      'expr',
      'exists',
      'notExists',
      'aggregate',
      'filter',
    ].filter((k) => k in raw);
    if (kinds.length !== 1) {
      return this.add(
        path,
        kinds.length === 0
          ? 'expected one of and, or, except, field, expr, exists, notExists, aggregate, filter'
          : `a condition has exactly one of ${kinds.join(', ')}`,
      );
    }
    const kind = kinds[0]!;
    const allowed: Record<string, string[]> = {
      and: ['and'],
      or: ['or'],
      except: ['except'],
      field: ['field', 'op', 'value'],
      expr: ['expr', 'op', 'value'],
      exists: ['exists', 'where'],
      notExists: ['notExists', 'where'],
      aggregate: ['aggregate', 'of', 'where', 'op', 'value'],
      filter: ['filter', 'parameters'],
    };
    for (const key of Object.keys(raw)) {
      if (!allowed[kind]!.includes(key))
        this.add(`${path}.${key}`, `unexpected key "${key}" in a ${kind} condition`);
    }
    switch (kind) {
      case 'and':
      case 'or':
      case 'except':
        return this.group(kind, raw[kind], scope, path, depth);
      case 'exists':
      case 'notExists':
        return this.exists(kind, raw, scope, path, depth);
      case 'aggregate':
        return this.aggregate(raw, scope, path, depth);
      case 'filter':
        return this.builtInFilter(raw, scope, path, depth);
      default:
        return this.compare(kind as 'field' | 'expr', raw, scope, path);
    }
  }

  private group(
    kind: 'and' | 'or' | 'except',
    raw: unknown,
    scope: Scope,
    path: string,
    depth: number,
  ): CheckedRule | undefined {
    if (!Array.isArray(raw)) return this.add(`${path}.${kind}`, 'expected a list of conditions');
    if (raw.length === 0) {
      if (kind === 'and') return { kind: 'all' };
      return this.add(`${path}.${kind}`, `an ${kind} group needs at least one condition`);
    }
    const rules = raw.map((r, i) => this.check(r, scope, `${path}.${kind}[${i}]`, depth + 1));
    if (rules.some((r) => r === undefined)) return undefined;
    const checked = rules as CheckedRule[];
    if (kind === 'except') return { kind: 'except', base: checked[0]!, minus: checked.slice(1) };
    return checked.length === 1 ? checked[0]! : { kind: 'group', op: kind, rules: checked };
  }

  private exists(
    kind: 'exists' | 'notExists',
    raw: Record<string, unknown>,
    scope: Scope,
    path: string,
    depth: number,
  ): CheckedRule | undefined {
    const link = raw[kind];
    if (typeof link !== 'string' || link === '')
      return this.add(`${path}.${kind}`, 'expected the name of a one-to-many link');
    const found = scope.collection(link.split('.'));
    if (typeof found === 'string') return this.add(`${path}.${kind}`, found);
    const collection = asWritten(found, raw.where);
    const where =
      raw.where === undefined
        ? undefined
        : this.check(raw.where, scope.inside(collection), `${path}.where`, depth + 1);
    if (raw.where !== undefined && !where) return undefined;
    return { kind: 'exists', collection, where, negated: kind === 'notExists' };
  }

  /** A built-in filter condition: the rule it stands for, checked in its place. */
  private builtInFilter(
    raw: Record<string, unknown>,
    scope: Scope,
    path: string,
    depth: number,
  ): CheckedRule | undefined {
    const expanded = expandBuiltInFilter(raw.filter, raw.parameters, scope.table);
    if ('issues' in expanded) {
      for (const issue of expanded.issues) this.add(`${path}.${issue.path}`, issue.message);
      return undefined;
    }
    return this.check(expanded.rule, scope, `${path}.filter`, depth + 1);
  }

  private aggregate(
    raw: Record<string, unknown>,
    scope: Scope,
    path: string,
    depth: number,
  ): CheckedRule | undefined {
    const name = raw.aggregate;
    if (typeof name !== 'string' || !(AGGREGATES as readonly string[]).includes(name)) {
      return this.add(`${path}.aggregate`, `expected one of ${AGGREGATES.join(', ')}`);
    }
    const fn = AGGREGATE_DEFS[name as AggregateName];
    if (typeof raw.of !== 'string' || raw.of === '')
      return this.add(`${path}.of`, 'expected a collection path such as purchases.amount');
    const parts = raw.of.split('.');
    let found: { collection: Exclude<ReturnType<Scope['collection']>, string>; rest: string[] } | undefined;
    let problem = '';
    for (let split = parts.length; split >= 1 && !found; split--) {
      const collection = scope.collection(parts.slice(0, split));
      if (typeof collection === 'string') problem ||= collection;
      else found = { collection, rest: parts.slice(split) };
    }
    if (!found) return this.add(`${path}.of`, problem);
    found.collection = asWritten(found.collection, raw.where);
    const inner = scope.inside(found.collection);
    let value: TypedExpr | undefined;
    if (found.rest.length > 0) {
      const ref = inner.field(found.rest);
      if (typeof ref === 'string') return this.add(`${path}.of`, ref);
      value = { kind: 'field', ref, type: ref.column.type };
    } else if (fn.needsValue) {
      return this.add(`${path}.of`, `${name} needs a column: ${raw.of}.<column>`);
    }
    const type = fn.returns(value?.type);
    if (!type) return this.add(`${path}.of`, `${name} does not apply to a ${value?.type ?? 'collection'}`);
    const where =
      raw.where === undefined ? undefined : this.check(raw.where, inner, `${path}.where`, depth + 1);
    if (raw.where !== undefined && !where) return undefined;
    const left: Operand = { kind: 'aggregate', fn, collection: found.collection, value, where, type };
    return this.comparison(left, raw.op, raw.value, 'value' in raw, scope, path);
  }

  private compare(
    kind: 'field' | 'expr',
    raw: Record<string, unknown>,
    scope: Scope,
    path: string,
  ): CheckedRule | undefined {
    const source = raw[kind];
    if (typeof source !== 'string' || source.trim() === '') {
      return this.add(
        `${path}.${kind}`,
        kind === 'field' ? 'expected a field name such as country or store.region' : 'expected an expression',
      );
    }
    let left: Operand;
    if (kind === 'field') {
      const ref = scope.field(source.split('.'));
      if (typeof ref === 'string') return this.add(`${path}.field`, ref);
      left = { kind: 'column', ref, type: ref.column.type };
    } else {
      const expr = this.expression(source, scope, `${path}.expr`);
      if (!expr) return undefined;
      left = { kind: 'expr', expr, type: expr.type };
    }
    return this.comparison(left, raw.op, raw.value, 'value' in raw, scope, path);
  }

  private expression(source: string, scope: Scope, path: string): TypedExpr | undefined {
    try {
      return checkExpression(source, { scope, variables: this.parameters });
    } catch (error) {
      if (error instanceof ExpressionError) return this.add(path, error.message);
      throw error;
    }
  }

  private comparison(
    left: Operand,
    rawOp: unknown,
    rawValue: unknown,
    hasValue: boolean,
    scope: Scope,
    path: string,
  ): CheckedRule | undefined {
    if (typeof rawOp !== 'string' || !(OPERATORS as readonly string[]).includes(rawOp)) {
      return this.add(`${path}.op`, `expected one of ${OPERATORS.join(', ')}`);
    }
    const op = rawOp as Operator;
    const { base, negated } = baseOf(op);
    const mismatch = operatorMismatch(op, left.type);
    if (mismatch) return this.add(`${path}.op`, mismatch);
    const arity = valueArity(base);
    if (arity === 0) {
      if (hasValue && rawValue !== null) return this.add(`${path}.value`, `${op} takes no value`);
      return { kind: 'compare', left, base, negated, values: [], type: left.type };
    }
    if (!hasValue) return this.add(`${path}.value`, `${op} needs a value`);
    let raws: unknown[];
    if (arity === 'list') {
      if (!Array.isArray(rawValue) || rawValue.length === 0)
        return this.add(`${path}.value`, `${op} needs a list of one or more values`);
      if (rawValue.length > MAX_LIST)
        return this.add(`${path}.value`, `${op} takes at most ${MAX_LIST} values`);
      raws = rawValue;
    } else if (arity === 2) {
      if (!Array.isArray(rawValue) || rawValue.length !== 2)
        return this.add(`${path}.value`, `${op} needs two values: [low, high]`);
      raws = rawValue;
    } else {
      if (Array.isArray(rawValue))
        return this.add(
          `${path}.value`,
          `${op} takes one value, not a list${op === 'eq' ? ' (use in)' : ''}`,
        );
      raws = [rawValue];
    }
    const values: Operand[] = [];
    let type = left.type;
    raws.forEach((raw, i) => {
      const at = arity === 1 ? `${path}.value` : `${path}.value[${i}]`;
      const value = this.value(raw, left.type, scope, at, base === 'like');
      if (!value) return;
      const common = comparisonType(type, value.type);
      if (!common) {
        this.add(at, `cannot compare a ${left.type} with a ${value.type}`);
        return;
      }
      type = common;
      values.push(value);
    });
    if (values.length !== raws.length) return undefined;
    return {
      kind: 'compare',
      left: widenOperand(left, type),
      base,
      negated,
      values: values.map((v) => widenOperand(v, type)),
      type,
    };
  }

  private value(
    raw: unknown,
    type: ValueType,
    scope: Scope,
    path: string,
    isPattern: boolean,
  ): Operand | undefined {
    if (isRecord(raw)) {
      if ('param' in raw) {
        const name = raw.param;
        if (typeof name !== 'string' || !/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
          return this.add(`${path}.param`, 'expected a parameter name (letters, digits, _)');
        const declared = this.parameters[name];
        if (!declared && this.closed !== undefined)
          return this.add(
            `${path}.param`,
            `no parameter ${name} among ${this.closed}: ${Object.keys(this.parameters).join(', ')}`,
          );
        if (declared && !comparisonType(declared, type))
          return this.add(
            `${path}.param`,
            `parameter ${name} is a ${declared}; it cannot be compared with a ${type}`,
          );
        this.parameters[name] ??= type;
        return { kind: 'param', name, declared: this.parameters[name], type: this.parameters[name] };
      }
      if ('expr' in raw) {
        if (isPattern)
          return this.add(path, 'like takes a literal pattern or a parameter, not an expression');
        if (typeof raw.expr !== 'string') return this.add(`${path}.expr`, 'expected an expression');
        const expr = this.expression(raw.expr, scope, `${path}.expr`);
        return expr && { kind: 'expr', expr, type: expr.type };
      }
      return this.add(path, 'expected a value, { expr: "…" } or { param: name }');
    }
    if (raw === null || raw === undefined)
      return this.add(path, 'an empty value matches nothing: use isEmpty or isNotEmpty');
    const literal = literalFor(type, raw);
    if ('problem' in literal) return this.add(path, literal.problem);
    if (isPattern) {
      const problem = likePatternProblem(literal.value as string);
      if (problem) return this.add(path, problem);
    }
    return { kind: 'value', value: literal.value, type };
  }
}

/** An operand as the comparison type: expressions are widened by the expression compiler, the rest here. */
function widenOperand(operand: Operand, type: ValueType): Operand {
  if (operand.type === type) return operand;
  if (operand.kind === 'expr') return { kind: 'expr', expr: widenTo(operand.expr, type), type };
  // Columns, parameters and aggregates are widened where they are compiled; mark the wanted type.
  return { ...operand, type };
}

/** Checks a rule over a dimension; throws a ValidationError listing every problem with its path. */
export function checkRule(
  schema: WorkspaceSchema,
  dimension: TableDef,
  raw: unknown,
  options: RuleCheckOptions = {},
): CheckedRuleResult {
  const checker = new RuleChecker(schema, options.parameters ?? {}, options.closed);
  const rule = checker.check(raw, new Scope(schema, dimension, options.carried), 'rule');
  if (!rule || checker.issues.length > 0) throw new ValidationError('The rule', checker.issues);
  return { rule, dimension, parameters: checker.parameters };
}
