import { sql, type RawBuilder } from 'kysely';
import { z } from 'zod';
import type { ExtraColumn, WorkingTable } from '../engine/working-tables.ts';
import { ValidationError, type Issue } from '../errors.ts';
import { checkRule, type RuleCheckOptions } from '../rules/check-rule.ts';
import { checkExpression } from '../rules/expression/check.ts';
import { ExpressionError } from '../rules/expression/syntax.ts';
import { Scope } from '../rules/scope.ts';
import type { SqlScope } from '../rules/sql-scope.ts';
import type { ValueType } from '../rules/values.ts';
import { findTable, type ColumnType, type TableDef, type WorkspaceSchema } from '../schema/types.ts';
import type { ActivityContext, Population } from './types.ts';

/**
 * Checks activities share: rules, fields and expressions against the population's table, and the
 * populations of their inputs. Each returns issues with paths inside the activity (`activities.x.rule…`).
 */

/** The one dimension all inputs share; an issue when they differ or one is not a table's rows. */
export function sharedDimension(
  ctx: ActivityContext,
  what: string,
): { table: TableDef | undefined; issues: Issue[] } {
  let table: TableDef | undefined;
  const issues: Issue[] = [];
  for (const input of ctx.inputs) {
    if (input.kind === 'file') {
      issues.push({
        path: ctx.path,
        message: `${what} needs rows of a table; reconcile the loaded file with a dimension first`,
      });
    } else if (input.kind === 'dimension') {
      if (table && table.name !== input.table.name) {
        issues.push({
          path: ctx.path,
          message: `${what} mixes ${table.name} and ${input.table.name}: its inputs must be rows of one table`,
        });
      }
      table ??= input.table;
    }
  }
  return { table, issues };
}

/** Rows of the table a config names as its dimension, checked by `checks`; an issue when there is no such table. */
export function onDimension(
  ctx: ActivityContext,
  name: string,
  checks: (table: TableDef) => Issue[],
): { population: Population; issues: Issue[] } {
  const table = findTable(ctx.schema, name);
  if (!table) {
    return {
      population: { kind: 'unknown' },
      issues: [{ path: `${ctx.path}.dimension`, message: `no table ${name} in the workspace` }],
    };
  }
  return { population: { kind: 'dimension', table }, issues: checks(table) };
}

/** The population of one input, as this activity passes it on (with the columns it carries). */
/**
 * Flow control (alert, fork, test, wait) hands on the rows it gets as they are: a table's, or a loaded
 * file's, which it never reads.
 */
export function handOn(ctx: ActivityContext): { population: Population; issues: Issue[] } {
  return { population: ctx.inputs[0] ?? { kind: 'unknown' }, issues: [] };
}

export function passThrough(ctx: ActivityContext, what: string): { population: Population; issues: Issue[] } {
  const { table, issues } = sharedDimension(ctx, what);
  const first = ctx.inputs[0];
  return {
    population:
      table && first?.kind !== 'dimension' ? { kind: 'dimension', table } : (first ?? { kind: 'unknown' }),
    issues,
  };
}

/**
 * The extra columns a population carries (what enrichment added, a file's columns): none for a table's
 * rows that no activity enriched; undefined when they are not known before the run.
 */
export function carriedColumns(population: Population): ExtraColumn[] | undefined {
  if (population.kind === 'dimension') return population.columns ?? [];
  return population.kind === 'file' ? population.columns : undefined;
}

/**
 * A column of a population: a column it carries, or a field of its table (links allowed). Its type, what
 * is wrong with the name, or undefined when the population's columns are not known before the run (they
 * are checked when it runs: columnSql).
 */
export function populationColumn(
  schema: WorkspaceSchema,
  population: Population,
  name: string,
): { type: ColumnType } | { error: string } | undefined {
  const carried = carriedColumns(population);
  const column = carried?.find((c) => c.name === name);
  if (column) return { type: column.type };
  if (population.kind === 'dimension') {
    const ref = new Scope(schema, population.table).field(name.split('.'));
    if (typeof ref !== 'string') return { type: ref.column.type };
    // A carried column is one name, never a path through links.
    const plain = carried!.length > 0 && !name.includes('.');
    return { error: plain ? `${ref} (nor is it among its ${columnList(carried!)})` : ref };
  }
  return carried && { error: `no column "${name}" (${columnList(carried)})` };
}

/** populationColumn's problem as an issue, or a type that is not one of `types`. */
export function columnIssues(
  ctx: ActivityContext,
  population: Population,
  name: string,
  at: string,
  types?: ValueType[],
): Issue[] {
  const found = populationColumn(ctx.schema, population, name);
  const path = `${ctx.path}.${at}`;
  if (found && 'error' in found) return [{ path, message: found.error }];
  if (found && types && !types.includes(found.type))
    return [{ path, message: `${name} is a ${found.type}; expected ${types.join(' or ')}` }];
  return [];
}

function columnList(columns: ExtraColumn[]): string {
  return `columns: ${columns.map((c) => c.name).join(', ') || 'none'}`;
}

/**
 * A column of a working table's rows at run time, as columnIssues resolves it: a carried column under the
 * working table's alias `w`, or a field of the dimension through `scope` (a scope over that working table).
 */
export function columnSql(
  scope: SqlScope,
  table: WorkingTable,
  name: string,
): { sql: RawBuilder<unknown>; type: ColumnType } {
  const carried = table.columns.find((c) => c.name === name);
  if (carried) return { sql: sql.ref(`w.${name}`), type: carried.type };
  const ref = new Scope(scope.run.schema, table.dimension).field(name.split('.'));
  if (typeof ref === 'string') throw new Error(ref);
  return { sql: scope.column(ref), type: ref.column.type };
}

export function ruleIssues(
  ctx: ActivityContext,
  table: TableDef | undefined,
  rule: unknown,
  at: string,
  options?: RuleCheckOptions,
): Issue[] {
  if (!table || rule === undefined) return [];
  try {
    checkRule(ctx.schema, table, rule, options);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.issues.map((i) => ({
      path: `${ctx.path}.${at}${i.path.replace(/^rule/, '')}`,
      message: i.message,
    }));
  }
}

/** A field of the rows (links allowed, or a column they carry), of one of `types` when given. */
export function fieldIssues(
  ctx: ActivityContext,
  table: TableDef | undefined,
  field: string,
  at: string,
  options: { types?: ValueType[]; carried?: ExtraColumn[] } = {},
): Issue[] {
  if (!table) return [];
  const ref = new Scope(ctx.schema, table, options.carried).field(field.split('.'));
  if (typeof ref === 'string') return [{ path: `${ctx.path}.${at}`, message: ref }];
  if (options.types && !options.types.includes(ref.column.type)) {
    return [
      {
        path: `${ctx.path}.${at}`,
        message: `${field} is a ${ref.column.type}; expected ${options.types.join(' or ')}`,
      },
    ];
  }
  return [];
}

export function expressionIssues(
  ctx: ActivityContext,
  table: TableDef | undefined,
  source: string,
  at: string,
  options: { variables?: Record<string, ValueType>; type?: ValueType; carried?: ExtraColumn[] } = {},
): Issue[] {
  if (!table) return [];
  try {
    const typed = checkExpression(source, {
      scope: new Scope(ctx.schema, table, options.carried),
      variables: options.variables ?? {},
    });
    if (options.type && typed.type !== options.type && typed.type !== 'null') {
      return [
        {
          path: `${ctx.path}.${at}`,
          message: `expected a ${options.type} expression; this one is a ${typed.type}`,
        },
      ];
    }
    return [];
  } catch (error) {
    if (error instanceof ExpressionError) return [{ path: `${ctx.path}.${at}`, message: error.message }];
    throw error;
  }
}

/** Shapes several activities share in their configs. */
export const label = z.string().trim().min(1).max(100);
export const ruleShape = z.unknown();
export const sortShape = z.strictObject({
  field: z.string().min(1),
  order: z.enum(['asc', 'desc']).default('asc'),
});
export const limitShape = z.union([
  z.strictObject({ count: z.number().int().min(0) }),
  z.strictObject({ percent: z.number().gt(0).max(100) }),
]);
