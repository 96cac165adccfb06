import type { Database } from '../db/database.ts';
import { NotFoundError } from '../errors.ts';
import { validateSchemaDocument } from './parse.ts';
import { findTable, type TableDef, type WorkspaceSchema } from './types.ts';

/** The applied workspace schema is kept in `workspace_schemas`, one row per applied version. */
export interface StoredSchema {
  version: number;
  appliedAt: string;
  schema: WorkspaceSchema;
}

export async function loadSchema(database: Database): Promise<StoredSchema | undefined> {
  const row = await database.db
    .selectFrom('workspace_schemas')
    .selectAll()
    .orderBy('version', 'desc')
    .limit(1)
    .executeTakeFirst();
  if (!row) return undefined;
  return {
    version: row.version,
    appliedAt: row.applied_at,
    schema: validateSchemaDocument(JSON.parse(row.document)),
  };
}

/** The current schema, or a clear error telling the user how to create one. */
export async function requireSchema(database: Database): Promise<StoredSchema> {
  const stored = await loadSchema(database);
  if (!stored) {
    throw new NotFoundError(
      'No workspace schema has been applied yet. Apply one with `baton schema apply baton.yaml`, or create the demo with `baton demo`.',
    );
  }
  return stored;
}

export function requireTable(schema: WorkspaceSchema, name: string): TableDef {
  const table = findTable(schema, name);
  if (!table) {
    const known = schema.tables.map((t) => t.name).join(', ');
    throw new NotFoundError(`Unknown table "${name}". The workspace has: ${known || 'no tables'}.`);
  }
  return table;
}
