import type { CollectionRef, FieldRef } from '../scope.ts';
import { compareValues, dateToMs, type Value } from '../values.ts';
import type { TypedExpr } from './check.ts';
import type { EvalContext } from './functions/types.ts';

/**
 * A checked expression evaluated in memory over one row, with SQL's semantics: NULL propagates through
 * operators and comparisons, AND / OR / NOT use three-valued logic, division by zero is NULL. It is the
 * oracle the differential tests hold both databases to, and serves previews of small samples.
 */
export interface ExpressionEvalContext extends EvalContext {
  field(ref: FieldRef): Value;
  variable(name: string): Value;
  /** The value of a window function for the current row. */
  window(node: Extract<TypedExpr, { kind: 'window' }>): Value;
  /** The contexts of the rows of a collection of the current row. */
  collection(ref: CollectionRef): ExpressionEvalContext[];
}

export function compareOp(op: '=' | '<>' | '<' | '<=' | '>' | '>=', a: Value, b: Value): boolean | null {
  if (a === null || b === null) return null;
  const order = compareValues(a, b);
  switch (op) {
    case '=':
      return order === 0;
    case '<>':
      return order !== 0;
    case '<':
      return order < 0;
    case '<=':
      return order <= 0;
    case '>':
      return order > 0;
    case '>=':
      return order >= 0;
  }
}

export function evaluateExpression(node: TypedExpr, ctx: ExpressionEvalContext): Value {
  switch (node.kind) {
    case 'literal':
      return node.value;
    case 'field':
      return ctx.field(node.ref);
    case 'variable':
      return ctx.variable(node.name);
    case 'widen': {
      const value = evaluateExpression(node.arg, ctx);
      return value !== null && node.type === 'datetime' ? dateToMs(value as string) : value;
    }
    case 'unary': {
      const value = evaluateExpression(node.arg, ctx);
      if (value === null) return null;
      // `+ 0` turns -0 into 0, as results read back from the databases are.
      return node.op === 'not' ? !value : -(value as number) + 0;
    }
    case 'case': {
      for (const { when, then } of node.whens) {
        if (evaluateExpression(when, ctx) === true) return evaluateExpression(then, ctx);
      }
      return node.otherwise ? evaluateExpression(node.otherwise, ctx) : null;
    }
    case 'call': {
      const args = node.args.map((a) => evaluateExpression(a, ctx));
      if (node.fn.nullPropagating !== false && args.some((a) => a === null)) return null;
      return node.fn.evaluate(
        args,
        ctx,
        node.args.map((a) => a.type),
      );
    }
    case 'window':
      return ctx.window(node);
    case 'aggregate': {
      const rows = ctx.collection(node.collection);
      const values = node.value ? rows.map((row) => evaluateExpression(node.value!, row)) : rows.map(() => 1);
      return node.fn.evaluate(values, node.value?.type);
    }
    case 'binary': {
      if (node.op === 'and' || node.op === 'or') {
        const left = evaluateExpression(node.left, ctx) as boolean | null;
        const right = evaluateExpression(node.right, ctx) as boolean | null;
        if (node.op === 'and') {
          if (left === false || right === false) return false;
          return left === null || right === null ? null : true;
        }
        if (left === true || right === true) return true;
        return left === null || right === null ? null : false;
      }
      const left = evaluateExpression(node.left, ctx);
      const right = evaluateExpression(node.right, ctx);
      if (left === null || right === null) return null;
      switch (node.op) {
        case '=':
        case '<>':
        case '<':
        case '<=':
        case '>':
        case '>=':
          return compareOp(node.op, left, right);
        case '+':
          return node.type === 'string'
            ? (left as string) + (right as string)
            : (left as number) + (right as number);
        case '-':
          return (left as number) - (right as number);
        case '*':
          return (left as number) * (right as number) + 0;
        case '/':
          return right === 0 ? null : (left as number) / (right as number) + 0;
        case '%':
          return right === 0 ? null : (left as number) % (right as number);
      }
    }
  }
}
