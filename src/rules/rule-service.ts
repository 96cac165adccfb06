import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../db/database.ts';
import { UserError, ValidationError, type Issue } from '../errors.ts';
import { requireSchema, requireTable } from '../schema/store.ts';
import type { TableDef, WorkspaceSchema } from '../schema/types.ts';
import { checkRule, literalFor, type CheckedRuleResult } from './check-rule.ts';
import { ruleSql } from './rule-sql.ts';
import type { RuleParameters } from './rule.ts';
import { Scope, type FieldRef } from './scope.ts';
import { SqlScope } from './sql-scope.ts';
import type { Value } from './values.ts';

/**
 * What the rule builder asks of a rule: how many rows it selects, which ones, the SQL it runs, and how
 * a field's values are distributed. Every request is checked against the workspace schema first, so a
 * mistake comes back as a list of problems with their paths, never as a database error.
 */
export interface RuleRequest {
  /** The table the rule selects rows of (usually a targeting dimension). */
  dimension: string;
  rule: unknown;
  /** Values of the rule's parameters, as JSON gives them (dates as text). */
  parameters?: Record<string, unknown>;
  /** Declared parameter types (a saved filter's); others are inferred from what they are compared with. */
  declared?: RuleParameters;
  /** "Now" for GetDate and the *Ago functions (epoch ms); the current time by default. */
  now?: number;
}

export interface PreparedRule {
  schema: WorkspaceSchema;
  checked: CheckedRuleResult;
  scope: SqlScope;
  where: RawBuilder<unknown>;
}

export const MAX_PREVIEW = 1000;
export const DISTRIBUTION_VALUES = 20;

/** Parameter values from JSON, as values of their types; every missing or malformed one is reported. */
export function resolveParameters(
  parameters: RuleParameters,
  raw: Record<string, unknown> = {},
): Record<string, Value> {
  const issues: Issue[] = [];
  const values: Record<string, Value> = {};
  for (const [name, type] of Object.entries(parameters)) {
    if (raw[name] === undefined || raw[name] === null) {
      issues.push({
        path: `parameters.${name}`,
        message: `the rule uses parameter ${name} (${type}); give it a value`,
      });
      continue;
    }
    const literal = literalFor(type, raw[name]);
    if ('problem' in literal) issues.push({ path: `parameters.${name}`, message: literal.problem });
    else values[name] = literal.value;
  }
  for (const name of Object.keys(raw)) {
    if (!(name in parameters))
      issues.push({ path: `parameters.${name}`, message: `the rule has no parameter ${name}` });
  }
  if (issues.length > 0) throw new ValidationError('The parameters', issues);
  return values;
}

export async function prepareRule(database: Database, request: RuleRequest): Promise<PreparedRule> {
  const { schema } = await requireSchema(database);
  const dimension = requireTable(schema, request.dimension);
  const checked = checkRule(schema, dimension, request.rule, { parameters: request.declared });
  const variables = resolveParameters(checked.parameters, request.parameters);
  const scope = SqlScope.root(
    { dialect: database.dialect, schema, now: request.now ?? Date.now(), variables },
    dimension,
  );
  return { schema, checked, scope, where: ruleSql(checked.rule, scope) };
}

export async function countRule(database: Database, request: RuleRequest): Promise<number> {
  const { scope, where } = await prepareRule(database, request);
  const result = await sql<{ n: unknown }>`SELECT count(*) AS n FROM ${scope.from()} WHERE ${where}`.execute(
    database.db,
  );
  return Number(result.rows[0]?.n ?? 0);
}

/** The column list of a preview: given field paths, or the dimension's own columns. */
function previewFields(
  schema: WorkspaceSchema,
  dimension: TableDef,
  columns: string[] | undefined,
): FieldRef[] {
  const scope = new Scope(schema, dimension);
  const paths = columns ?? dimension.columns.map((c) => c.name);
  const issues: Issue[] = [];
  const refs: FieldRef[] = [];
  paths.forEach((path, i) => {
    const ref = scope.field(path.split('.'));
    if (typeof ref === 'string') issues.push({ path: `columns[${i}]`, message: ref });
    else refs.push(ref);
  });
  if (issues.length > 0) throw new ValidationError('The preview columns', issues);
  return refs;
}

export interface RulePreview {
  columns: Array<{ name: string; type: string }>;
  rows: Array<Record<string, string | number | boolean | null>>;
  limit: number;
  offset: number;
}

/** Rows the rule selects, in primary-key order, with the chosen columns (link paths allowed). */
export async function previewRule(
  database: Database,
  request: RuleRequest & { columns?: string[]; limit?: number; offset?: number },
): Promise<RulePreview> {
  const limit = request.limit ?? 50;
  const offset = request.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PREVIEW)
    throw new UserError(`limit must be a whole number from 1 to ${MAX_PREVIEW}.`);
  if (!Number.isInteger(offset) || offset < 0) throw new UserError('offset must be a whole number ≥ 0.');
  const { schema, checked, scope, where } = await prepareRule(database, request);
  const fields = previewFields(schema, checked.dimension, request.columns);
  const { dialect } = database;
  // Integers are read as text so that values beyond 2^53 keep every digit on both databases.
  const select = fields.map((ref, i) => {
    const column = scope.column(ref);
    return ref.column.type === 'integer'
      ? sql`CAST(${column} AS TEXT) AS ${sql.id(`c${i}`)}`
      : sql`${column} AS ${sql.id(`c${i}`)}`;
  });
  const order = sql.join(checked.dimension.primaryKey.map((k) => sql.ref(`${scope.alias}.${k}`)));
  const rows = await database.read(
    sql`SELECT ${sql.join(select)} FROM ${scope.from()} WHERE ${where}
      ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`.compile(database.db),
  );
  const names = fields.map((f) => f.path.join('.'));
  return {
    columns: fields.map((f, i) => ({ name: names[i]!, type: f.column.type })),
    rows: rows.map((row) =>
      Object.fromEntries(fields.map((f, i) => [names[i]!, dialect.fromDriver(f.column.type, row[`c${i}`])])),
    ),
    limit,
    offset,
  };
}

/** A parameter as SQL text for reading (never executed): strings quoted, others as they print. */
function literalText(value: unknown): string {
  if (value === null || value === undefined) return 'NULL';
  if (typeof value === 'number' || typeof value === 'bigint') return String(value);
  if (typeof value === 'boolean') return value ? 'TRUE' : 'FALSE';
  const text = typeof value === 'string' ? value : JSON.stringify(value);
  return `'${text.replaceAll("'", "''")}'`;
}

export interface RuleSqlText {
  /** The statement as it runs: every value a parameter. */
  sql: string;
  parameters: unknown[];
  /** The same with the parameters written in, for people to read (the code view); never executed. */
  readable: string;
}

export async function ruleSqlText(database: Database, request: RuleRequest): Promise<RuleSqlText> {
  const { scope, where } = await prepareRule(database, request);
  const columns = scope.table.primaryKey.map((k) => sql.ref(`${scope.alias}.${k}`));
  const compiled = sql`SELECT ${sql.join(columns)} FROM ${scope.from()} WHERE ${where}`.compile(database.db);
  const parameters = compiled.parameters.map((p) => (typeof p === 'bigint' ? Number(p) : p));
  let next = 0;
  const readable =
    database.kind === 'postgres'
      ? compiled.sql.replace(/\$(\d+)/g, (_, n: string) => literalText(parameters[Number(n) - 1]))
      : compiled.sql.replace(/\?/g, () => literalText(parameters[next++]));
  return { sql: compiled.sql, parameters, readable };
}

export interface Distribution {
  field: string;
  type: string;
  /** Rows the rule selects (all rows without a rule). */
  total: number;
  values: Array<{ value: string | number | boolean | null; count: number; percent: number }>;
  /** More distinct values exist than are listed. */
  partial: boolean;
}

/** The most frequent values of a field among the rows a rule selects (top 20, most frequent first). */
export async function distribution(
  database: Database,
  request: Omit<RuleRequest, 'rule'> & { rule?: unknown; field: string },
): Promise<Distribution> {
  const prepared = await prepareRule(database, { ...request, rule: request.rule ?? { and: [] } });
  const { schema, checked, scope, where } = prepared;
  const [ref] = previewFields(schema, checked.dimension, [request.field]);
  const column = scope.column(ref!);
  const value = ref!.column.type === 'integer' ? sql`CAST(${column} AS TEXT)` : column;
  // Ties in frequency are listed in value order, the same on both databases: empty last, text by code point.
  const ordered =
    database.kind === 'postgres' && ref!.column.type === 'string' ? sql`${column} COLLATE "C"` : column;
  // One scan: the total of all groups is a window over the grouped rows, computed before the limit.
  const found = await database.read<{ value: unknown; n: unknown; total: unknown }>(
    sql`SELECT ${value} AS value, count(*) AS n, sum(count(*)) OVER () AS total FROM ${scope.from()} WHERE ${where}
      GROUP BY ${column} ORDER BY count(*) DESC, (CASE WHEN ${column} IS NULL THEN 1 ELSE 0 END), ${ordered}
      LIMIT ${DISTRIBUTION_VALUES + 1}`.compile(database.db),
  );
  const total = Number(found[0]?.total ?? 0);
  const rows = found.slice(0, DISTRIBUTION_VALUES);
  return {
    field: request.field,
    type: ref!.column.type,
    total,
    values: rows.map((row) => {
      const count = Number(row.n);
      return {
        value: database.dialect.fromDriver(ref!.column.type, row.value),
        count,
        percent: total > 0 ? Math.round((count * 10_000) / total) / 100 : 0,
      };
    }),
    partial: found.length > DISTRIBUTION_VALUES,
  };
}
