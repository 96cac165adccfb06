import { z } from 'zod';
import { ValidationError, type Issue } from '../errors.ts';
import { checkRule } from '../rules/check-rule.ts';
import { checkExpression } from '../rules/expression/check.ts';
import { ExpressionError } from '../rules/expression/syntax.ts';
import { Scope } from '../rules/scope.ts';
import type { ValueType } from '../rules/values.ts';
import { findTable, type TableDef } from '../schema/types.ts';
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

/** The population of one input, as this activity passes it on. */
export function passThrough(ctx: ActivityContext, what: string): { population: Population; issues: Issue[] } {
  const { table, issues } = sharedDimension(ctx, what);
  return {
    population: table ? { kind: 'dimension', table } : (ctx.inputs[0] ?? { kind: 'unknown' }),
    issues,
  };
}

export function ruleIssues(
  ctx: ActivityContext,
  table: TableDef | undefined,
  rule: unknown,
  at: string,
): Issue[] {
  if (!table || rule === undefined) return [];
  try {
    checkRule(ctx.schema, table, rule);
    return [];
  } catch (error) {
    if (!(error instanceof ValidationError)) throw error;
    return error.issues.map((i) => ({
      path: `${ctx.path}.${at}${i.path.replace(/^rule/, '')}`,
      message: i.message,
    }));
  }
}

export function fieldIssues(
  ctx: ActivityContext,
  table: TableDef | undefined,
  field: string,
  at: string,
  types?: ValueType[],
): Issue[] {
  if (!table) return [];
  const ref = new Scope(ctx.schema, table).field(field.split('.'));
  if (typeof ref === 'string') return [{ path: `${ctx.path}.${at}`, message: ref }];
  if (types && !types.includes(ref.column.type)) {
    return [
      {
        path: `${ctx.path}.${at}`,
        message: `${field} is a ${ref.column.type}; expected ${types.join(' or ')}`,
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
  options: { variables?: Record<string, ValueType>; type?: ValueType } = {},
): Issue[] {
  if (!table) return [];
  try {
    const typed = checkExpression(source, {
      scope: new Scope(ctx.schema, table),
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
