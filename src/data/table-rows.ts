import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { UserError } from '../errors.ts';
import { requireSchema, requireTable } from '../schema/store.ts';
import type { ColumnType, WorkspaceSchema } from '../schema/types.ts';

/** Reading customer tables for people: row counts and pages of rows in their JSON form. */

export const MAX_PAGE = 1000;

export interface TableRowsPage {
  table: string;
  columns: Array<{ name: string; type: ColumnType }>;
  rows: Array<Record<string, string | number | boolean | null>>;
  limit: number;
  offset: number;
  /** Rows in the whole table. */
  total: number;
}

export async function countRows(database: Database, table: string): Promise<number> {
  const result = await sql<{
    n: number | string;
  }>`SELECT count(*) AS n FROM ${database.dialect.dataTableRef(table)}`.execute(database.db);
  return Number(result.rows[0]?.n ?? 0);
}

export async function tableRowCounts(
  database: Database,
  schema: WorkspaceSchema,
): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of schema.tables) counts[table.name] = await countRows(database, table.name);
  return counts;
}

/** A page of rows in primary-key order, each value shown as its column type reads in JSON. */
export async function readRows(
  database: Database,
  tableName: string,
  page: { limit?: number; offset?: number } = {},
): Promise<TableRowsPage> {
  const limit = page.limit ?? 50;
  const offset = page.offset ?? 0;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new UserError(`limit must be a whole number from 1 to ${MAX_PAGE}.`);
  }
  if (!Number.isInteger(offset) || offset < 0) throw new UserError('offset must be a whole number ≥ 0.');
  const { schema } = await requireSchema(database);
  const table = requireTable(schema, tableName);
  const { dialect } = database;
  // Integers are read as text so that values beyond 2^53 keep every digit on both databases.
  const select = table.columns.map((c) =>
    c.type === 'integer' ? sql`CAST(${sql.id(c.name)} AS TEXT) AS ${sql.id(c.name)}` : sql.id(c.name),
  );
  // Qualified, so that ORDER BY sorts the key column itself and not its text form selected under the same name.
  const order = sql.join(table.primaryKey.map((k) => sql`${dialect.dataTableRef(table.name)}.${sql.id(k)}`));
  const result = await sql<Record<string, unknown>>`
    SELECT ${sql.join(select)} FROM ${dialect.dataTableRef(table.name)}
    ORDER BY ${order} LIMIT ${limit} OFFSET ${offset}`.execute(database.db);
  const rows = result.rows.map((raw) => {
    const row: Record<string, string | number | boolean | null> = {};
    for (const c of table.columns) row[c.name] = dialect.fromDriver(c.type, raw[c.name]);
    return row;
  });
  return {
    table: table.name,
    columns: table.columns.map((c) => ({ name: c.name, type: c.type })),
    rows,
    limit,
    offset,
    total: await countRows(database, table.name),
  };
}
