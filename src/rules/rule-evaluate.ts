import { UserError } from '../errors.ts';
import { evaluateExpression, type ExpressionEvalContext } from './expression/evaluate.ts';
import { operatorHolds } from './operators.ts';
import type { CheckedRule, Operand } from './rule.ts';
import { widen, type Value } from './values.ts';

/**
 * A checked rule evaluated in memory for one row, with the meaning rule-sql.ts gives it in SQL: every
 * condition is true or false (an empty field fails a positive operator and passes its negation), groups
 * combine them, `except` removes rows. The differential tests hold this equal to both databases.
 */
function operandValue(operand: Operand, ctx: ExpressionEvalContext): Value {
  switch (operand.kind) {
    case 'column':
      return widen(ctx.field(operand.ref), operand.ref.column.type, operand.type);
    case 'value':
      return operand.value;
    case 'param': {
      const value = ctx.variable(operand.name);
      if (value === null) throw new UserError(`The rule's parameter "${operand.name}" has no value.`);
      return widen(value, operand.declared, operand.type);
    }
    case 'expr':
      return evaluateExpression(operand.expr, ctx);
    case 'aggregate': {
      const rows = ctx
        .collection(operand.collection)
        .filter((row) => !operand.where || ruleHolds(operand.where, row));
      const values = rows.map((row) => (operand.value ? evaluateExpression(operand.value, row) : 1));
      return operand.fn.evaluate(values, operand.value?.type);
    }
  }
}

export function ruleHolds(rule: CheckedRule, ctx: ExpressionEvalContext): boolean {
  switch (rule.kind) {
    case 'all':
      return true;
    case 'group':
      return rule.op === 'and'
        ? rule.rules.every((r) => ruleHolds(r, ctx))
        : rule.rules.some((r) => ruleHolds(r, ctx));
    case 'except':
      return ruleHolds(rule.base, ctx) && !rule.minus.some((m) => ruleHolds(m, ctx));
    case 'exists': {
      const found = ctx.collection(rule.collection).some((row) => !rule.where || ruleHolds(rule.where, row));
      return found !== rule.negated;
    }
    case 'compare': {
      const left = operandValue(rule.left, ctx);
      const values = rule.values.map((v) => operandValue(v, ctx));
      return operatorHolds(rule.base, left, values) !== rule.negated;
    }
  }
}
