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
  const ref = workingTableRef(database, name);
  const keys = dimension.primaryKey.map((k) => dimension.columns.find((c) => c.name === k)!);
  const all = [...keys, ...extra];
  const columns = sql.join(
    all.map((c) => sql`${sql.id(c.name)} ${sql.raw(database.dialect.columnType(c.type))}`),
  );
  // Keyed like the dimension: populations are sets, and later steps look rows up by key (NOT EXISTS…).
  const primaryKey = sql.join(keys.map((c) => sql.id(c.name)));
  await sql`CREATE TABLE ${ref} (${columns}, PRIMARY KEY (${primaryKey}))`.execute(database.db);
  if (typeof source === 'function') return { name, dimension, columns: extra, count: await source(ref, all) };
  // The insert's own row count: no second scan of the table to count it.
  const inserted =
    await sql`INSERT INTO ${ref} (${sql.join(all.map((c) => sql.id(c.name)))}) ${source}`.execute(
      database.db,
    );
  return { name, dimension, columns: extra, count: Number(inserted.numAffectedRows ?? 0) };
}

/** The extra columns of a working table under an alias, for a SELECT that carries them on. */
export function extraColumns(table: WorkingTable, alias: string): Array<RawBuilder<unknown>> {
  return table.columns.map((c) => sql.ref(`${alias}.${c.name}`));
}

export async function dropWorkingTable(database: Database, name: string): Promise<void> {
  await sql`DROP TABLE IF EXISTS ${workingTableRef(database, name)}`.execute(database.db);
}
