import type { RawBuilder } from 'kysely';
import type { DatabaseKind } from '../../../db/bulk-values.ts';
import type { Value, ValueType } from '../../values.ts';

/**
 * The contract of a function of the expression language. Each function says which argument types it
 * takes, what it returns, how it compiles to SQL on each database, and how it evaluates in memory; the
 * differential tests hold the two equal. Families live one per file next to this one.
 */
export type FunctionCategory =
  'date' | 'string' | 'numeric' | 'conditional' | 'aggregate' | 'window' | 'other';

/**
 * What an argument accepts: a value type, `number` (integer or decimal), `temporal` (date or datetime),
 * or `any`. The NULL literal fits every parameter.
 */
export type ParamType = ValueType | 'number' | 'temporal' | 'any';

export interface Signature {
  params: ParamType[];
  /** The last parameter may repeat (at least once). */
  variadic?: boolean;
  /**
   * The result type, fixed or worked out from the argument types; a function returning undefined says
   * these argument types do not go together (say, a string and a number for one result), and the call is
   * refused with the signatures listed.
   */
  returns: ValueType | ((args: ValueType[]) => ValueType | undefined);
}

/** An argument compiled to SQL: its value in the database's own representation (see docs/rules.md). */
export interface SqlArg {
  sql: RawBuilder<unknown>;
  type: ValueType;
}

export interface SqlContext {
  kind: DatabaseKind;
  /** A value as a parameter of the given type (typed on PostgreSQL, stored form on SQLite). */
  param(value: Value, type: ValueType): RawBuilder<unknown>;
  /** The evaluation's current time (a datetime parameter): GetDate and the *Ago functions use it. */
  now(): RawBuilder<unknown>;
}

export interface EvalContext {
  /** The evaluation's current time, in epoch milliseconds. */
  now: number;
}

export interface FunctionDef {
  /** The canonical spelling (calls are matched without regard to case). */
  name: string;
  category: FunctionCategory;
  /** One line for the function catalogue: what it returns. */
  summary: string;
  /** An example call, shown in the catalogue. */
  example: string;
  signatures: Signature[];
  /**
   * Whether a NULL argument makes the result NULL without calling `evaluate` (true unless said
   * otherwise). The SQL must behave the same way.
   */
  nullPropagating?: boolean;
  /** False for functions whose result is not reproducible (Random): excluded from differential tests. */
  deterministic?: boolean;
  sql(args: SqlArg[], ctx: SqlContext): RawBuilder<unknown>;
  evaluate(args: Value[], ctx: EvalContext, types: ValueType[]): Value;
}

/**
 * A function SQLite lacks, given to every SQLite connection Baton opens (better-sqlite3 runs it in
 * process). Only for what SQLite cannot express exactly in SQL (digests, Unicode case mapping…): a call
 * per row costs more than built-in SQL. Names start with `baton_`; implementations are deterministic and
 * share their code with the function's `evaluate`, so both give the same result by construction.
 */
export interface SqliteUdf {
  name: `baton_${string}`;
  /**
   * Called with SQLite values: text as strings, INTEGER as numbers, REAL as numbers, NULL as null.
   * better-sqlite3 takes the number of arguments from the function's `length`, so a wrapper with rest
   * parameters must set it.
   */
  fn: (...args: never[]) => string | number | bigint | null;
}
