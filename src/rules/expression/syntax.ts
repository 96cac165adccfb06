import { UserError } from '../../errors.ts';

/**
 * The expression language's syntax tree, as the parser produces it (untyped; `check.ts` types it against
 * the workspace schema). Every node keeps where it starts and ends in the source, so errors can point at it.
 */
export type Expr =
  | { kind: 'number'; text: string; start: number; end: number }
  | { kind: 'string'; value: string; start: number; end: number }
  /** `#2026-03-01#` or `#2026-03-01T09:30:00Z#`. */
  | { kind: 'temporal'; text: string; start: number; end: number }
  | { kind: 'boolean'; value: boolean; start: number; end: number }
  | { kind: 'null'; start: number; end: number }
  /** A column of the current table, or one reached through links: `store.region`. */
  | { kind: 'field'; path: string[]; start: number; end: number }
  /** A variable of the run or a parameter: `$(vars/@since)` or `vars.since`. */
  | { kind: 'variable'; name: string; start: number; end: number }
  | { kind: 'call'; name: string; args: Expr[]; start: number; end: number }
  | { kind: 'unary'; op: '-' | 'not'; arg: Expr; start: number; end: number }
  | { kind: 'binary'; op: BinaryOp; left: Expr; right: Expr; start: number; end: number };

export type BinaryOp = '+' | '-' | '*' | '/' | '%' | '=' | '<>' | '<' | '<=' | '>' | '>=' | 'and' | 'or';

/** A syntax or type error in an expression, with the position (0-based) it refers to. */
export class ExpressionError extends UserError {
  constructor(
    readonly source: string,
    readonly position: number,
    readonly detail: string,
  ) {
    super(`${detail} (at character ${position + 1} of "${source}")`);
    this.name = 'ExpressionError';
  }
}
