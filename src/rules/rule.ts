import type { TypedExpr } from './expression/check.ts';
import type { AggregateDef } from './expression/functions/aggregate.ts';
import type { BaseOperator, Operator } from './operators.ts';
import type { CollectionRef, FieldRef } from './scope.ts';
import type { Value, ValueType } from './values.ts';

/**
 * A rule as people and the UI write it (DESIGN.md "Rules"), and the checked form the compiler and the
 * evaluator work from. In the written form a value is a literal, a list, `{ expr }` or `{ param }`.
 */
export type RuleValue = string | number | boolean | null | { expr: string } | { param: string };

export type Rule =
  | { and: Rule[] }
  | { or: Rule[] }
  /** The first rule's rows minus those of each of the others. */
  | { except: Rule[] }
  | { field: string; op: Operator; value?: RuleValue | RuleValue[] }
  | { expr: string; op: Operator; value?: RuleValue | RuleValue[] }
  | { exists: string; where?: Rule }
  | { notExists: string; where?: Rule }
  | {
      aggregate: string;
      /** `purchases.amount`, or just `purchases` for count. */
      of: string;
      where?: Rule;
      op: Operator;
      value?: RuleValue | RuleValue[];
    }
  /** A built-in filter (src/rules/built-in-filters.ts) with its parameters' values. */
  | { filter: string; parameters?: Record<string, unknown> };

/** One side of a comparison, checked. */
export type Operand =
  | { kind: 'column'; ref: FieldRef; type: ValueType }
  | { kind: 'value'; value: Value; type: ValueType }
  /** `declared` is the parameter's own type; `type` may be wider (a date parameter compared with datetimes). */
  | { kind: 'param'; name: string; declared: ValueType; type: ValueType }
  | { kind: 'expr'; expr: TypedExpr; type: ValueType }
  | {
      kind: 'aggregate';
      fn: AggregateDef;
      collection: CollectionRef;
      value: TypedExpr | undefined;
      where: CheckedRule | undefined;
      type: ValueType;
    };

export type CheckedRule =
  /** `and: []`: every row. */
  | { kind: 'all' }
  | { kind: 'group'; op: 'and' | 'or'; rules: CheckedRule[] }
  | { kind: 'except'; base: CheckedRule; minus: CheckedRule[] }
  | {
      kind: 'compare';
      left: Operand;
      base: BaseOperator;
      negated: boolean;
      values: Operand[];
      /** The type both sides are compared in. */
      type: ValueType;
    }
  | { kind: 'exists'; collection: CollectionRef; where: CheckedRule | undefined; negated: boolean };

/** What a checked rule needs at run time: its parameters and their types. */
export interface RuleParameters {
  [name: string]: ValueType;
}
