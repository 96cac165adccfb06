import { sql } from 'kysely';
import type { Database } from './database.ts';

/** What physically exists of the customer tables, so a schema change is planned against reality. */
export interface DataTableState {
  columns: Set<string>;
  indexes: Set<string>;
}

export async function introspectDataTables(database: Database): Promise<Map<string, DataTableState>> {
  const out = new Map<string, DataTableState>();
  if (database.kind === 'sqlite') {
    const tables = await sql<{ name: string }>`
      SELECT name FROM sqlite_master WHERE type = 'table' AND substr(name, 1, 5) = 'data_'`.execute(
      database.db,
    );
    for (const { name } of tables.rows) {
      const columns = await sql<{ name: string }>`SELECT name FROM pragma_table_info(${name})`.execute(
        database.db,
      );
      const indexes = await sql<{ name: string }>`
        SELECT name FROM sqlite_master WHERE type = 'index' AND tbl_name = ${name} AND sql IS NOT NULL`.execute(
        database.db,
      );
      out.set(name.slice('data_'.length), {
        columns: new Set(columns.rows.map((r) => r.name)),
        indexes: new Set(indexes.rows.map((r) => r.name)),
      });
    }
    return out;
  }
  const columns = await sql<{ table_name: string; column_name: string }>`
    SELECT table_name, column_name FROM information_schema.columns
    WHERE table_schema = 'data' ORDER BY table_name, ordinal_position`.execute(database.db);
  for (const row of columns.rows) {
    let state = out.get(row.table_name);
    if (!state) out.set(row.table_name, (state = { columns: new Set(), indexes: new Set() }));
    state.columns.add(row.column_name);
  }
  const indexes = await sql<{ tablename: string; indexname: string }>`
    SELECT tablename, indexname FROM pg_indexes WHERE schemaname = 'data'`.execute(database.db);
  for (const row of indexes.rows) out.get(row.tablename)?.indexes.add(row.indexname);
  return out;
}
