import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../db/database.ts';
import type { ColumnType, TableDef } from '../schema/types.ts';

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

export function workingTableRef(database: Database, name: string): RawBuilder<unknown> {
  return database.kind === 'postgres' ? sql.id('work', name) : sql.id(`work_${name}`);
}

/**
 * Creates a working table for `dimension` and fills it with `select`, which yields the key columns and
 * then the `extra` columns, in that order.
 */
export async function createWorkingTable(
  database: Database,
  name: string,
  dimension: TableDef,
  select: RawBuilder<unknown>,
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
  // The insert's own row count: no second scan of the table to count it.
  const inserted =
    await sql`INSERT INTO ${ref} (${sql.join(all.map((c) => sql.id(c.name)))}) ${select}`.execute(
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
