import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../db/database.ts';
import { findTable, type ColumnType, type TableDef, type WorkspaceSchema } from '../schema/types.ts';

/**
 * Working tables: the rows on a transition of a run, as the keys of the population's dimension. They live
 * beside the customer tables (`work_…` on SQLite, the `work` schema on PostgreSQL), are created empty and
 * filled with INSERT … SELECT (so PostgreSQL can later distribute them, DESIGN.md "Scale path"), and are
 * dropped after the run's retention. Names are made from the run id and a counter, never from user input.
 */
export interface WorkingTable {
  name: string;
  dimension: TableDef;
  /** Columns beyond the dimension's keys: what enrichment added, carried along by later activities. */
  columns: ExtraColumn[];
  count: number;
}

export interface ExtraColumn {
  name: string;
  type: ColumnType;
}

/**
 * The rows of a loaded file are a population without a dimension: their key is the line number in the
 * file (`_line`), their data the file's declared columns (the working table's extra columns). Transitions
 * record the dimension `@file` for them.
 */
export const FILE_DIMENSION: TableDef = {
  name: '@file',
  primaryKey: ['_line'],
  columns: [{ name: '_line', type: 'integer' }],
  links: [],
};

/** The dimension a transition records: a table of the workspace, or a file's rows. */
export function transitionDimension(schema: WorkspaceSchema, name: string): TableDef | undefined {
  return name === FILE_DIMENSION.name ? FILE_DIMENSION : findTable(schema, name);
}

/**
 * How a working table is filled: an INSERT's SELECT (the key columns, then the extra columns, in that
 * order), or a function that writes the rows itself (a loaded file) and returns how many it wrote.
 */
export type WorkingTableSource =
  RawBuilder<unknown> | ((table: RawBuilder<unknown>, columns: ExtraColumn[]) => Promise<number>);

export function workingTableRef(database: Database, name: string): RawBuilder<unknown> {
  return database.kind === 'postgres' ? sql.id('work', name) : sql.id(`work_${name}`);
}

/** Creates a working table for `dimension` with the `extra` columns, and fills it from `source`. */
export async function createWorkingTable(
  database: Database,
  name: string,
  dimension: TableDef,
  source: WorkingTableSource,
  extra: ExtraColumn[] = [],
): Promise<WorkingTable> {
  try {
    const count = await createKeyedTable(database, workingTableRef(database, name), dimension, source, extra);
    return { name, dimension, columns: extra, count };
  } catch (error) {
    // A table whose filling failed is recorded nowhere: drop it now or nothing ever would.
    await dropWorkingTable(database, name);
    throw error;
  }
}

/**
 * Creates the table `ref` holding keys of `dimension` and the `extra` columns, fills it from `source` and
 * returns its row count. Working tables and the members of saved audiences are both made this way.
 */
export async function createKeyedTable(
  database: Database,
  ref: RawBuilder<unknown>,
  dimension: TableDef,
  source: WorkingTableSource,
  extra: ExtraColumn[] = [],
): Promise<number> {
  const keys = dimension.primaryKey.map((k) => dimension.columns.find((c) => c.name === k)!);
  const all = [...keys, ...extra];
  const columns = sql.join(
    all.map((c) => sql`${sql.id(c.name)} ${sql.raw(database.dialect.columnType(c.type))}`),
  );
  // Keyed like the dimension: populations are sets, and later steps look rows up by key (NOT EXISTS…).
  const primaryKey = sql.join(keys.map((c) => sql.id(c.name)));
  await sql`CREATE TABLE ${ref} (${columns}, PRIMARY KEY (${primaryKey}))`.execute(database.db);
  if (typeof source === 'function') return source(ref, all);
  // The insert's own row count: no second scan of the table to count it.
  const inserted =
    await sql`INSERT INTO ${ref} (${sql.join(all.map((c) => sql.id(c.name)))}) ${source}`.execute(
      database.db,
    );
  return Number(inserted.numAffectedRows ?? 0);
}

/**
 * A page of the rows of a keyed table (a working table, an audience's members) as the population's
 * columns, in key order: a dimension's rows are read from its customer table by key (rows deleted from it
 * since are not shown), a file's rows are all in the keyed table; the `extra` columns follow.
 */
export async function keyedTableRows(
  database: Database,
  ref: RawBuilder<unknown>,
  dimension: TableDef,
  extra: ExtraColumn[],
  page: { limit: number; offset: number },
): Promise<{
  columns: string[];
  /** Each column's type, and whether the rows carry it (an enrichment's, a file's) or it is the table's. */
  schema: Array<{ name: string; type: ColumnType; carried: boolean }>;
  rows: Array<Record<string, unknown>>;
}> {
  const shown = [...dimension.columns, ...extra];
  const keyed = sql`${ref} AS w`;
  const on = sql.join(
    dimension.primaryKey.map((k) => sql`${sql.ref(`t.${k}`)} = ${sql.ref(`w.${k}`)}`),
    sql` AND `,
  );
  const from =
    dimension === FILE_DIMENSION
      ? keyed
      : sql`${keyed} JOIN ${database.dialect.dataTableRef(dimension.name)} AS t ON ${on}`;
  const own = dimension === FILE_DIMENSION ? 'w' : 't';
  const order = sql.join(dimension.primaryKey.map((k) => sql.ref(`${own}.${k}`)));
  const select = [
    ...dimension.columns.map((c) => sql.ref(`${own}.${c.name}`)),
    ...extra.map((c) => sql.ref(`w.${c.name}`)),
  ];
  const rows = await database.read(
    sql`SELECT ${sql.join(select)} FROM ${from}
      ORDER BY ${order} LIMIT ${sql.lit(page.limit)} OFFSET ${sql.lit(page.offset)}`.compile(database.db),
  );
  return {
    columns: shown.map((c) => c.name),
    schema: shown.map((c, i) => ({ name: c.name, type: c.type, carried: i >= dimension.columns.length })),
    rows: rows.map((r) =>
      Object.fromEntries(shown.map((c) => [c.name, database.dialect.fromDriver(c.type, r[c.name])])),
    ),
  };
}

/** The extra columns of a working table under an alias, for a SELECT that carries them on. */
export function extraColumns(table: WorkingTable, alias: string): Array<RawBuilder<unknown>> {
  return table.columns.map((c) => sql.ref(`${alias}.${c.name}`));
}

export async function dropWorkingTable(database: Database, name: string): Promise<void> {
  await sql`DROP TABLE IF EXISTS ${workingTableRef(database, name)}`.execute(database.db);
}
