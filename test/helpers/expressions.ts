import { sql } from 'kysely';
import { expect } from 'vitest';
import { bulkInsert } from '../../src/data/bulk-load.ts';
import { checkExpression, type TypedExpr } from '../../src/rules/expression/check.ts';
import { evaluateExpression } from '../../src/rules/expression/evaluate.ts';
import { expressionSql } from '../../src/rules/expression/to-sql.ts';
import { Dataset, type Row } from '../../src/rules/dataset.ts';
import { Scope } from '../../src/rules/scope.ts';
import { SqlScope } from '../../src/rules/sql-scope.ts';
import { fromSql } from '../../src/rules/sql-values.ts';
import type { Value, ValueType } from '../../src/rules/values.ts';
import { applySchema } from '../../src/schema/migrate.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { findTable, type CellValue, type WorkspaceSchema } from '../../src/schema/types.ts';
import type { TestDatabase } from './databases.ts';

/**
 * A small workspace for testing expressions on both databases and in memory: table `t` (every column
 * type twice, with edge values and NULLs), a one-to-many link `items`, a many-to-one link `ref`. An
 * expression is evaluated per row of `t` three ways — SQL on the database under test, and the in-memory
 * evaluator — and `expectAgree` holds them equal.
 */
export const HARNESS_SCHEMA = parseSchemaText(`
tables:
  t:
    primaryKey: id
    columns:
      id: integer
      s: string
      s2: string
      i: integer
      i2: integer
      d: decimal
      d2: decimal
      b: boolean
      dt: date
      dt2: date
      ts: datetime
      ts2: datetime
      ref_id: integer
    links:
      items: { table: items, cardinality: one-to-many, on: { id: t_id } }
      ref: { table: r, cardinality: many-to-one, on: { ref_id: id } }
  items:
    primaryKey: id
    columns: { id: integer, t_id: integer, amount: decimal, qty: integer, at: datetime, label: string }
  r:
    primaryKey: id
    columns: { id: integer, name: string, region: string }
`);

/** The evaluation's "now": a Saturday, mid-morning UTC. */
export const HARNESS_NOW = Date.parse('2026-11-28T10:15:30.250Z');

const ms = (iso: string) => Date.parse(iso);

/** Rows of `t`: each column runs through ordinary, boundary and empty values. */
export const HARNESS_ROWS: Row[] = [
  {
    id: 1,
    s: 'Hello World',
    s2: 'o',
    i: 42,
    i2: 5,
    d: 12.5,
    d2: 0.1,
    b: true,
    dt: '2024-02-29',
    dt2: '2024-03-01',
    ts: ms('2026-11-28T10:15:30.250Z'),
    ts2: ms('2026-01-31T23:59:59.999Z'),
    ref_id: 1,
  },
  {
    id: 2,
    s: '',
    s2: '',
    i: 0,
    i2: -3,
    d: -2.675,
    d2: 3,
    b: false,
    dt: '1900-01-01',
    dt2: '2099-12-31',
    ts: ms('1970-01-01T00:00:00.000Z'),
    ts2: ms('2000-02-29T12:00:00.000Z'),
    ref_id: 2,
  },
  {
    id: 3,
    s: null,
    s2: null,
    i: null,
    i2: null,
    d: null,
    d2: null,
    b: null,
    dt: null,
    dt2: null,
    ts: null,
    ts2: null,
    ref_id: null,
  },
  {
    id: 4,
    s: 'Zoë Ünïcødé 日本 🎉',
    s2: 'ü',
    i: -17,
    i2: 4,
    d: 0.005,
    d2: -0.5,
    b: true,
    dt: '2026-12-31',
    dt2: '2026-01-01',
    ts: ms('2026-03-29T01:30:00.000Z'),
    ts2: ms('2026-10-25T00:59:59.000Z'),
    ref_id: 3,
  },
  {
    id: 5,
    s: '  padded  ',
    s2: 'a',
    i: 9007199254740,
    i2: 1,
    d: 1e-7,
    d2: 100,
    b: false,
    dt: '2000-02-28',
    dt2: '2000-03-31',
    ts: ms('2024-12-31T23:59:59.999Z'),
    ts2: ms('2025-01-01T00:00:00.000Z'),
    ref_id: 99,
  },
  {
    id: 6,
    s: 'john.DOE@Example.COM',
    s2: '%_\\',
    i: 7,
    i2: 0,
    d: 99.99,
    d2: 0,
    b: true,
    dt: '2023-01-31',
    dt2: '2023-02-28',
    ts: ms('2023-06-15T12:34:56.789Z'),
    ts2: ms('2023-06-15T12:34:56.788Z'),
    ref_id: 1,
  },
  {
    id: 7,
    s: 'it\'s "quoted"; DROP TABLE t; --',
    s2: "'",
    i: -1,
    i2: 2,
    d: 2.5,
    d2: -2.5,
    b: false,
    dt: '1999-12-31',
    dt2: '1999-12-31',
    ts: ms('1999-12-31T23:59:59.000Z'),
    ts2: ms('1999-12-31T00:00:00.000Z'),
    ref_id: 2,
  },
  {
    id: 8,
    s: 'ß straße İstanbul',
    s2: 'SS',
    i: 100,
    i2: 7,
    d: 1234567.891,
    d2: 0.3,
    b: null,
    dt: '2026-11-28',
    dt2: '2025-11-28',
    ts: ms('2026-11-27T10:15:30.250Z'),
    ts2: ms('2026-11-28T00:00:00.000Z'),
    ref_id: 3,
  },
];

export const HARNESS_ITEMS: Row[] = [
  { id: 1, t_id: 1, amount: 10.1, qty: 1, at: ms('2026-11-01T08:00:00Z'), label: 'alpha' },
  { id: 2, t_id: 1, amount: 20.2, qty: 2, at: ms('2026-09-01T08:00:00Z'), label: 'beta' },
  { id: 3, t_id: 1, amount: null, qty: 3, at: null, label: null },
  { id: 4, t_id: 2, amount: 0.1, qty: 1, at: ms('2025-01-01T00:00:00Z'), label: 'alpha' },
  { id: 5, t_id: 4, amount: -5, qty: null, at: ms('2026-11-28T10:15:30.250Z'), label: 'Ωmega' },
  { id: 6, t_id: 4, amount: 0.2, qty: 4, at: ms('2026-11-20T00:00:00Z'), label: 'alpha' },
  { id: 7, t_id: 6, amount: 99.99, qty: 1, at: ms('2020-02-29T12:00:00Z'), label: '' },
  { id: 8, t_id: 8, amount: 0.7, qty: 1, at: ms('2026-11-27T23:59:59Z'), label: 'beta' },
];

export const HARNESS_REFS: Row[] = [
  { id: 1, name: 'North store', region: 'North' },
  { id: 2, name: 'South store', region: 'South' },
  { id: 3, name: 'Ünïcødé store', region: null },
];

function cells(rows: Row[], columns: string[]): CellValue[][] {
  return rows.map((row) => columns.map((c) => row[c] ?? null));
}

/** Applies a schema and loads rows (in the rule value representation) into the test database, replacing any. */
export async function loadDataset(
  t: TestDatabase,
  schema: WorkspaceSchema,
  rows: Record<string, Row[]>,
): Promise<void> {
  await applySchema(t.database, schema, { allowDrop: true });
  const sources = Object.entries(rows).map(([name, tableRows]) => {
    const table = findTable(schema, name)!;
    const columns = table.columns.map((c) => c.name);
    return { table, columns, rows: cells(tableRows, columns) };
  });
  await bulkInsert(t.database, sources, { replace: true });
}

/** Applies the harness schema and loads its rows into the test database. */
export function loadHarness(t: TestDatabase): Promise<void> {
  return loadDataset(t, HARNESS_SCHEMA, { r: HARNESS_REFS, t: HARNESS_ROWS, items: HARNESS_ITEMS });
}

export interface ExpressionRun {
  variables?: Record<string, { type: ValueType; value: Value }>;
  now?: number;
}

function check(schema: WorkspaceSchema, source: string, run: ExpressionRun): TypedExpr {
  const variables = Object.fromEntries(Object.entries(run.variables ?? {}).map(([k, v]) => [k, v.type]));
  return checkExpression(source, { scope: new Scope(schema, findTable(schema, 't')!), variables });
}

function variableValues(run: ExpressionRun): Record<string, Value> {
  return Object.fromEntries(Object.entries(run.variables ?? {}).map(([k, v]) => [k, v.value]));
}

/** The expression's value for each row of `t`, computed by the database. */
export async function sqlValues(
  t: TestDatabase,
  source: string,
  run: ExpressionRun = {},
): Promise<Map<number, Value>> {
  const typed = check(HARNESS_SCHEMA, source, run);
  const scope = SqlScope.root(
    {
      dialect: t.database.dialect,
      schema: HARNESS_SCHEMA,
      now: run.now ?? HARNESS_NOW,
      variables: variableValues(run),
    },
    findTable(HARNESS_SCHEMA, 't')!,
  );
  const value = expressionSql(typed, scope.expressionContext());
  const query = sql<{
    id: unknown;
    v: unknown;
  }>`SELECT t0.id AS id, ${value} AS v FROM ${scope.from()} ORDER BY t0.id`;
  const result = await query.execute(t.database.db);
  return new Map(result.rows.map((row) => [Number(row.id), fromSql(typed.type, row.v)]));
}

/** The expression's value for each row of `t`, computed in memory. */
export function memoryValues(source: string, run: ExpressionRun = {}): Map<number, Value> {
  const typed = check(HARNESS_SCHEMA, source, run);
  const dataset = new Dataset(HARNESS_SCHEMA, { t: HARNESS_ROWS, items: HARNESS_ITEMS, r: HARNESS_REFS });
  const evalRun = { now: run.now ?? HARNESS_NOW, variables: variableValues(run) };
  return new Map(
    HARNESS_ROWS.map((row) => [
      row.id as number,
      evaluateExpression(typed, dataset.context('t', row, evalRun)),
    ]),
  );
}

/**
 * Asserts that the database and the in-memory evaluator give the same value for every row; returns the
 * values by row id, for hand-written expectations on top.
 */
export async function expectAgree(
  t: TestDatabase,
  source: string,
  run: ExpressionRun = {},
): Promise<Map<number, Value>> {
  const fromDatabase = await sqlValues(t, source, run);
  const inMemory = memoryValues(source, run);
  expect(Object.fromEntries(fromDatabase), `${source} on ${t.database.kind}`).toEqual(
    Object.fromEntries(inMemory),
  );
  return inMemory;
}

/** The type the checker gives an expression. */
export function typeOf(source: string, run: ExpressionRun = {}): ValueType {
  return check(HARNESS_SCHEMA, source, run).type;
}
