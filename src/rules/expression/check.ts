import type { TableDef } from '../../schema/types.ts';
import type { CollectionRef, FieldRef, Scope } from '../scope.ts';
import {
  comparisonType,
  isNumeric,
  MAX_DATETIME,
  MIN_DATETIME,
  type Value,
  type ValueType,
} from '../values.ts';
import { aggregateByFunctionName, type AggregateDef } from './functions/aggregate.ts';
import { findFunction } from './functions/index.ts';
import type { FunctionDef, ParamType } from './functions/types.ts';
import { parseExpression } from './parse.ts';
import { ExpressionError, type BinaryOp, type Expr } from './syntax.ts';

/**
 * An expression checked against the workspace schema: every field resolved to a column, every call to a
 * function of the catalogue with arguments of the right types, every node typed. The SQL compiler and the
 * in-memory evaluator both work from this tree.
 */
export type TypedExpr =
  | { kind: 'literal'; value: Value; type: ValueType }
  | { kind: 'field'; ref: FieldRef; type: ValueType }
  | { kind: 'variable'; name: string; type: ValueType }
  | { kind: 'call'; fn: FunctionDef; args: TypedExpr[]; type: ValueType }
  | {
      kind: 'aggregate';
      fn: AggregateDef;
      collection: CollectionRef;
      /** The aggregated column, inside the collection's rows (absent for Count(link)). */
      value: TypedExpr | undefined;
      type: ValueType;
    }
  | { kind: 'unary'; op: '-' | 'not'; arg: TypedExpr; type: ValueType }
  /** A value used as a wider type: an integer as a decimal, a date as a datetime (its midnight UTC). */
  | { kind: 'widen'; arg: TypedExpr; type: ValueType }
  /**
   * A window function over the rows of the scope's table: RowNum / Rank / DenseRank by `order` within
   * each `partition`, or an aggregate of the whole partition (`_Over_(Sum(amount), PartitionBy(country))`).
   */
  | {
      kind: 'window';
      fn: WindowName;
      aggregate: AggregateDef | undefined;
      value: TypedExpr | undefined;
      partition: TypedExpr[];
      order: Array<{ expr: TypedExpr; desc: boolean }>;
      table: TableDef;
      type: ValueType;
    }
  /** `Case(When(cond, value), …, Else(value))`. */
  | {
      kind: 'case';
      whens: Array<{ when: TypedExpr; then: TypedExpr }>;
      otherwise: TypedExpr | undefined;
      type: ValueType;
    }
  | {
      kind: 'binary';
      op: BinaryOp;
      left: TypedExpr;
      right: TypedExpr;
      type: ValueType;
      /** For comparisons: the type both sides are compared in. */
      operand: ValueType;
    };

export const RANKINGS = ['rownum', 'rank', 'denserank'] as const;
export type WindowName = (typeof RANKINGS)[number] | 'over';
const WINDOW_PARTS = ['partitionby', 'orderby', 'desc', 'asc'];

export interface CheckContext {
  scope: Scope;
  /** Variables the expression may use (run variables, saved-filter parameters), with their types. */
  variables: Record<string, ValueType>;
}

const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const ISO_DATETIME = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:?\d{2})?$/i;

function accepts(param: ParamType, type: ValueType): boolean {
  if (type === 'null' || param === 'any' || param === type) return true;
  if (param === 'number') return isNumeric(type);
  if (param === 'decimal') return type === 'integer';
  if (param === 'temporal') return type === 'date' || type === 'datetime';
  if (param === 'datetime') return type === 'date';
  return false;
}

/** The node as `to` when its type is narrower (integer → decimal, date → datetime). */
export function widenTo(node: TypedExpr, to: ValueType): TypedExpr {
  if (node.type === to || node.type === 'null') return node;
  if ((node.type === 'integer' && to === 'decimal') || (node.type === 'date' && to === 'datetime')) {
    return { kind: 'widen', arg: node, type: to };
  }
  return node;
}

/** The type a parameter makes of an argument: a `decimal` parameter widens integers, `datetime` dates. */
function paramTarget(param: ParamType, type: ValueType): ValueType {
  return param === 'decimal' || param === 'datetime' ? param : type;
}

function describeParams(fn: FunctionDef): string {
  return fn.signatures
    .map((s) => `${fn.name}(${s.params.join(', ')}${s.variadic ? ', …' : ''})`)
    .join(' or ');
}

class Checker {
  private inWindow = false;

  constructor(
    private readonly source: string,
    private readonly ctx: CheckContext,
  ) {}

  private fail(node: { start: number }, message: string): never {
    throw new ExpressionError(this.source, node.start, message);
  }

  check(expr: Expr, scope: Scope = this.ctx.scope): TypedExpr {
    switch (expr.kind) {
      case 'number': {
        const value = Number(expr.text);
        const integer = /^\d+$/.test(expr.text);
        if (integer && !Number.isSafeInteger(value))
          this.fail(expr, 'whole number too large for an expression');
        return { kind: 'literal', value, type: integer ? 'integer' : 'decimal' };
      }
      case 'string':
        if (expr.value.includes('\u0000')) this.fail(expr, 'text cannot contain the NUL character (U+0000)');
        return { kind: 'literal', value: expr.value, type: 'string' };
      case 'boolean':
        return { kind: 'literal', value: expr.value, type: 'boolean' };
      case 'null':
        return { kind: 'literal', value: null, type: 'null' };
      case 'temporal':
        return this.temporal(expr);
      case 'field': {
        const ref = scope.field(expr.path);
        if (typeof ref === 'string') this.fail(expr, ref);
        return { kind: 'field', ref, type: ref.column.type };
      }
      case 'variable': {
        const type = this.ctx.variables[expr.name];
        if (!type) {
          const known = Object.keys(this.ctx.variables);
          this.fail(
            expr,
            `unknown variable "${expr.name}"${known.length ? ` (known: ${known.join(', ')})` : ': declare it as a parameter'}`,
          );
        }
        return { kind: 'variable', name: expr.name, type };
      }
      case 'unary':
        return this.unary(expr, scope);
      case 'binary':
        return this.binary(expr, scope);
      case 'call':
        return this.call(expr, scope);
    }
  }

  private temporal(expr: Extract<Expr, { kind: 'temporal' }>): TypedExpr {
    const text = expr.text.trim();
    if (ISO_DATE.test(text)) {
      const ms = Date.parse(`${text}T00:00:00Z`);
      if (Number.isNaN(ms) || new Date(ms).toISOString().slice(0, 10) !== text || ms < MIN_DATETIME) {
        this.fail(expr, `#${text}# is not a calendar date of the years 0001 to 9999`);
      }
      return { kind: 'literal', value: text, type: 'date' };
    }
    if (ISO_DATETIME.test(text)) {
      const normalised = text.replace(' ', 'T');
      const ms = Date.parse(/[zZ]|[+-]\d{2}:?\d{2}$/.test(normalised) ? normalised : `${normalised}Z`);
      if (ms >= MIN_DATETIME && ms <= MAX_DATETIME) return { kind: 'literal', value: ms, type: 'datetime' };
    }
    return this.fail(
      expr,
      `expected a date such as #2026-03-01# or a date-time such as #2026-03-01T09:30:00Z#`,
    );
  }

  private unary(expr: Extract<Expr, { kind: 'unary' }>, scope: Scope): TypedExpr {
    const arg = this.check(expr.arg, scope);
    if (expr.op === 'not') {
      if (arg.type !== 'boolean' && arg.type !== 'null')
        this.fail(expr, `NOT needs a condition, not a ${arg.type}`);
      return { kind: 'unary', op: 'not', arg, type: 'boolean' };
    }
    if (!isNumeric(arg.type) && arg.type !== 'null') this.fail(expr, `"-" needs a number, not a ${arg.type}`);
    return { kind: 'unary', op: '-', arg, type: arg.type === 'null' ? 'integer' : arg.type };
  }

  private binary(expr: Extract<Expr, { kind: 'binary' }>, scope: Scope): TypedExpr {
    const left = this.check(expr.left, scope);
    const right = this.check(expr.right, scope);
    const { op } = expr;
    const node = (type: ValueType, operand: ValueType): TypedExpr => ({
      kind: 'binary',
      op,
      left: widenTo(left, operand),
      right: widenTo(right, operand),
      type,
      operand,
    });
    switch (op) {
      case 'and':
      case 'or':
        for (const side of [left, right]) {
          if (side.type !== 'boolean' && side.type !== 'null') {
            this.fail(expr, `${op.toUpperCase()} joins conditions; one side is a ${side.type}`);
          }
        }
        return node('boolean', 'boolean');
      case '=':
      case '<>':
      case '<':
      case '<=':
      case '>':
      case '>=': {
        const operand = comparisonType(left.type, right.type);
        if (!operand) this.fail(expr, `cannot compare a ${left.type} with a ${right.type}`);
        if (operand === 'boolean' && op !== '=' && op !== '<>')
          this.fail(expr, `booleans are compared with = or <> only`);
        return node('boolean', operand);
      }
      case '+': {
        const joinsText =
          [left.type, right.type].includes('string') &&
          [left.type, right.type].every((t) => t === 'string' || t === 'null');
        if (joinsText) return node('string', 'string');
        const type = this.numeric(expr, left.type, right.type);
        return node(type, type);
      }
      case '-':
      case '*': {
        const type = this.numeric(expr, left.type, right.type);
        return node(type, type);
      }
      case '/':
        this.numeric(expr, left.type, right.type);
        return node('decimal', 'decimal');
      case '%':
        for (const side of [left, right]) {
          if (side.type !== 'integer' && side.type !== 'null')
            this.fail(expr, `"%" needs whole numbers; use Mod() for decimals`);
        }
        return node('integer', 'integer');
    }
  }

  private numeric(expr: Expr & { op: string }, a: ValueType, b: ValueType): ValueType {
    for (const side of [a, b]) {
      if (!isNumeric(side) && side !== 'null') {
        const hint = expr.op === '+' ? ' (or two strings, to join them)' : '';
        this.fail(
          expr,
          `"${expr.op}" needs numbers${hint}, not a ${side}; date arithmetic uses AddDays(), DaysDiff()…`,
        );
      }
    }
    return a === 'decimal' || b === 'decimal' ? 'decimal' : 'integer';
  }

  private call(expr: Extract<Expr, { kind: 'call' }>, scope: Scope): TypedExpr {
    if (expr.name.toLowerCase() === 'case') return this.caseOf(expr, scope);
    if (['when', 'else'].includes(expr.name.toLowerCase())) {
      this.fail(expr, `${expr.name}() is only allowed inside Case(When(condition, value), …, Else(value))`);
    }
    const lower = expr.name.toLowerCase();
    if ((RANKINGS as readonly string[]).includes(lower) || lower === '_over_')
      return this.window(expr, scope);
    if (WINDOW_PARTS.includes(lower)) {
      this.fail(
        expr,
        `${expr.name}() is only allowed inside a window function: RowNum(PartitionBy(…), OrderBy(…)) or _Over_(Sum(…), PartitionBy(…))`,
      );
    }
    const aggregate = aggregateByFunctionName(expr.name);
    if (aggregate) return this.aggregate(expr, aggregate, scope);
    const fn = findFunction(expr.name);
    if (!fn) this.fail(expr, `unknown function ${expr.name}()`);
    const args = expr.args.map((a) => this.check(a, scope));
    const types = args.map((a) => a.type);
    for (const signature of fn.signatures) {
      const { params, variadic } = signature;
      const arityOk = variadic ? types.length >= params.length : types.length === params.length;
      if (!arityOk) continue;
      const fits = types.every((t, i) => accepts(params[Math.min(i, params.length - 1)]!, t));
      if (!fits) continue;
      const type = typeof signature.returns === 'function' ? signature.returns(types) : signature.returns;
      if (type === undefined) continue;
      const widened = args.map((a, i) =>
        widenTo(a, paramTarget(params[Math.min(i, params.length - 1)]!, a.type)),
      );
      return { kind: 'call', fn, args: widened, type };
    }
    const got = `${fn.name}(${types.join(', ')})`;
    return this.fail(expr, `${got} does not match ${describeParams(fn)}`);
  }

  private caseOf(expr: Extract<Expr, { kind: 'call' }>, scope: Scope): TypedExpr {
    const whens: Array<{ when: TypedExpr; then: TypedExpr }> = [];
    let otherwise: TypedExpr | undefined;
    expr.args.forEach((arg, i) => {
      const name = arg.kind === 'call' ? arg.name.toLowerCase() : '';
      if (arg.kind === 'call' && name === 'when' && arg.args.length === 2 && otherwise === undefined) {
        const when = this.check(arg.args[0]!, scope);
        if (when.type !== 'boolean' && when.type !== 'null')
          this.fail(arg, `When() needs a condition first, not a ${when.type}`);
        whens.push({ when, then: this.check(arg.args[1]!, scope) });
      } else if (
        arg.kind === 'call' &&
        name === 'else' &&
        arg.args.length === 1 &&
        i === expr.args.length - 1
      ) {
        otherwise = this.check(arg.args[0]!, scope);
      } else {
        this.fail(arg, 'Case() takes When(condition, value) arguments and, last, an optional Else(value)');
      }
    });
    if (whens.length === 0) this.fail(expr, 'Case() needs at least one When(condition, value)');
    const results = [...whens.map((w) => w.then), ...(otherwise ? [otherwise] : [])];
    let type: ValueType = 'null';
    for (const result of results) {
      const common = comparisonType(type, result.type);
      if (!common) this.fail(expr, `Case() results must have one type; found ${type} and ${result.type}`);
      type = common;
    }
    return {
      kind: 'case',
      whens: whens.map((w) => ({ when: w.when, then: widenTo(w.then, type) })),
      otherwise: otherwise && widenTo(otherwise, type),
      type,
    };
  }

  private window(expr: Extract<Expr, { kind: 'call' }>, scope: Scope): TypedExpr {
    if (this.inWindow) this.fail(expr, 'window functions cannot be nested');
    this.inWindow = true;
    try {
      const lower = expr.name.toLowerCase();
      const rest = [...expr.args];
      let aggregate: AggregateDef | undefined;
      let value: TypedExpr | undefined;
      let type: ValueType = 'integer';
      if (lower === '_over_') {
        const first = rest.shift();
        aggregate = first?.kind === 'call' ? aggregateByFunctionName(first.name) : undefined;
        if (!aggregate || aggregate.name === 'countDistinct' || first?.kind !== 'call') {
          return this.fail(
            first ?? expr,
            '_Over_() takes an aggregate first: Sum(x), Count(), Count(x), Avg(x), Min(x) or Max(x)',
          );
        }
        if (first.args.length > 1 || (aggregate.needsValue && first.args.length === 0)) {
          this.fail(
            first,
            `${aggregate.functionName}() inside _Over_ takes ${aggregate.needsValue ? 'one value' : 'at most one value'}`,
          );
        }
        value = first.args[0] && this.check(first.args[0], scope);
        const result = aggregate.returns(value?.type);
        if (!result)
          this.fail(first, `${aggregate.functionName}() does not apply to a ${value?.type ?? 'row'}`);
        type = result;
      }
      const partition: TypedExpr[] = [];
      const order: Array<{ expr: TypedExpr; desc: boolean }> = [];
      for (const part of rest) {
        const name = part.kind === 'call' ? part.name.toLowerCase() : '';
        if (
          part.kind === 'call' &&
          name === 'partitionby' &&
          partition.length === 0 &&
          order.length === 0 &&
          part.args.length > 0
        ) {
          partition.push(...part.args.map((a) => this.check(a, scope)));
        } else if (
          part.kind === 'call' &&
          name === 'orderby' &&
          order.length === 0 &&
          lower !== '_over_' &&
          part.args.length > 0
        ) {
          for (const key of part.args) {
            const direction = key.kind === 'call' ? key.name.toLowerCase() : '';
            const wrapped =
              key.kind === 'call' && (direction === 'desc' || direction === 'asc') && key.args.length === 1;
            const checked = this.check(wrapped ? key.args[0]! : key, scope);
            if (checked.type === 'null') this.fail(key, 'order by a value, not NULL');
            order.push({ expr: checked, desc: wrapped && direction === 'desc' });
          }
        } else {
          this.fail(
            part,
            lower === '_over_'
              ? '_Over_(aggregate, PartitionBy(…)) takes an optional PartitionBy after the aggregate'
              : `${expr.name}() takes an optional PartitionBy(…) and then OrderBy(…), such as ${expr.name}(PartitionBy(email), OrderBy(Desc(created_at)))`,
          );
        }
      }
      if (lower !== '_over_' && order.length === 0)
        this.fail(expr, `${expr.name}() needs OrderBy(…): rows are numbered in that order`);
      return {
        kind: 'window',
        fn: lower === '_over_' ? 'over' : (lower as WindowName),
        aggregate,
        value,
        partition,
        order,
        table: scope.table,
        type,
      };
    } finally {
      this.inWindow = false;
    }
  }

  private aggregate(expr: Extract<Expr, { kind: 'call' }>, fn: AggregateDef, scope: Scope): TypedExpr {
    const arg = expr.args[0];
    if (expr.args.length !== 1 || arg?.kind !== 'field') {
      this.fail(
        expr,
        `${fn.functionName}() takes one collection path, such as ${fn.functionName}(purchases${fn.needsValue ? '.amount' : ''})`,
      );
    }
    // The longest prefix that is a one-to-many link is the collection; the rest is a field of its rows.
    for (let split = arg.path.length; split >= 1; split--) {
      const collection = scope.collection(arg.path.slice(0, split));
      if (typeof collection === 'string') continue;
      const rest = arg.path.slice(split);
      if (rest.length === 0) {
        if (fn.needsValue)
          this.fail(
            arg,
            `${fn.functionName}() needs a column of ${collection.table.name}: ${arg.path.join('.')}.<column>`,
          );
        return { kind: 'aggregate', fn, collection, value: undefined, type: fn.returns(undefined)! };
      }
      const inner = scope.inside(collection);
      const value = this.check({ ...arg, path: rest }, inner);
      const type = fn.returns(value.type);
      if (!type) this.fail(arg, `${fn.functionName}() does not apply to a ${value.type} column`);
      return { kind: 'aggregate', fn, collection, value, type };
    }
    return this.fail(
      arg,
      `${arg.path.join('.')} does not start with a one-to-many link of ${scope.table.name}`,
    );
  }
}

/** Parses and checks an expression; throws an ExpressionError naming the position of the first problem. */
export function checkExpression(source: string, ctx: CheckContext): TypedExpr {
  return new Checker(source, ctx).check(parseExpression(source));
}
