import { sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/database.ts';
import type { BatonTables } from '../db/tables.ts';
import type { SqlDialect } from '../db/dialect.ts';
import { introspectDataTables, type DataTableState } from '../db/introspect.ts';
import { UserError } from '../errors.ts';
import { schemaToDocument } from './parse.ts';
import { loadSchema } from './store.ts';
import { findColumn, findTable, type ColumnType, type TableDef, type WorkspaceSchema } from './types.ts';

/**
 * Turns a new workspace schema into the DDL that brings the customer tables to it. The plan is computed
 * against what physically exists (tables, columns, indexes) and against the stored schema (types, keys);
 * any step that would lose data is refused unless the caller allows drops.
 */
export type SchemaStep =
  | { kind: 'create-table'; table: string; description: string; destructive: false }
  | {
      kind: 'add-column';
      table: string;
      column: string;
      type: ColumnType;
      description: string;
      destructive: false;
    }
  | {
      kind: 'create-index';
      table: string;
      columns: string[];
      name: string;
      description: string;
      destructive: false;
    }
  | { kind: 'drop-index'; table: string; name: string; description: string; destructive: false }
  | { kind: 'drop-table'; table: string; description: string; destructive: true }
  | { kind: 'drop-column'; table: string; column: string; description: string; destructive: true }
  | {
      kind: 'change-type';
      table: string;
      column: string;
      type: ColumnType;
      description: string;
      destructive: true;
    }
  | { kind: 'change-key'; table: string; description: string; destructive: true };

export interface SchemaChangeResult {
  version: number;
  /** False when the document was already the applied one. */
  changed: boolean;
  dryRun: boolean;
  steps: SchemaStep[];
  /** One line for people: "adds column loyalty_tier; no data loss". */
  summary: string;
}

const MANAGED_INDEX = /^(data_)?ix_/;

/** The columns that joins run on and that are not already a primary key: each gets an index. */
function wantedIndexes(schema: WorkspaceSchema, dialect: SqlDialect): Map<string, Map<string, string[]>> {
  const wanted = new Map<string, Map<string, string[]>>();
  const want = (table: TableDef, columns: string[]) => {
    const isKey =
      columns.length === table.primaryKey.length && columns.every((c) => table.primaryKey.includes(c));
    if (isKey) return;
    let forTable = wanted.get(table.name);
    if (!forTable) wanted.set(table.name, (forTable = new Map<string, string[]>()));
    forTable.set(dialect.dataIndex(table.name, columns), columns);
  };
  for (const table of schema.tables) {
    for (const link of table.links) {
      want(
        table,
        link.on.map((p) => p.from),
      );
      const target = findTable(schema, link.table);
      if (target)
        want(
          target,
          link.on.map((p) => p.to),
        );
    }
  }
  return wanted;
}

export function planSchemaChange(
  current: WorkspaceSchema | undefined,
  next: WorkspaceSchema,
  physical: Map<string, DataTableState>,
  dialect: SqlDialect,
): SchemaStep[] {
  const steps: SchemaStep[] = [];
  const wanted = wantedIndexes(next, dialect);
  for (const [name, state] of physical) {
    const keep = wanted.get(name);
    for (const index of state.indexes) {
      if (MANAGED_INDEX.test(index) && !keep?.has(index)) {
        steps.push({
          kind: 'drop-index',
          table: name,
          name: index,
          description: `drop index ${index}`,
          destructive: false,
        });
      }
    }
    if (!findTable(next, name)) {
      steps.push({
        kind: 'drop-table',
        table: name,
        description: `drop table ${name} and all its rows`,
        destructive: true,
      });
    }
  }
  for (const table of next.tables) {
    const state = physical.get(table.name);
    const before = current ? findTable(current, table.name) : undefined;
    const keyChanged = before !== undefined && before.primaryKey.join(',') !== table.primaryKey.join(',');
    if (!state || keyChanged) {
      if (keyChanged) {
        steps.push({
          kind: 'change-key',
          table: table.name,
          description: `change the primary key of ${table.name} from (${before.primaryKey.join(', ')}) to (${table.primaryKey.join(', ')}): the table is recreated empty`,
          destructive: true,
        });
      } else {
        steps.push({
          kind: 'create-table',
          table: table.name,
          description: `create table ${table.name} (${table.columns.length} columns)`,
          destructive: false,
        });
      }
    } else {
      for (const column of table.columns) {
        const old = before ? findColumn(before, column.name) : undefined;
        if (!state.columns.has(column.name)) {
          steps.push({
            kind: 'add-column',
            table: table.name,
            column: column.name,
            type: column.type,
            description: `add column ${table.name}.${column.name} (${column.type})`,
            destructive: false,
          });
        } else if (old && old.type !== column.type) {
          steps.push({
            kind: 'change-type',
            table: table.name,
            column: column.name,
            type: column.type,
            description: `change ${table.name}.${column.name} from ${old.type} to ${column.type}: its values are dropped`,
            destructive: true,
          });
        }
      }
      for (const column of state.columns) {
        if (!findColumn(table, column)) {
          steps.push({
            kind: 'drop-column',
            table: table.name,
            column,
            description: `drop column ${table.name}.${column} and its values`,
            destructive: true,
          });
        }
      }
    }
    const fresh = !state || keyChanged;
    for (const [name, columns] of wanted.get(table.name) ?? []) {
      if (fresh || !state.indexes.has(name)) {
        steps.push({
          kind: 'create-index',
          table: table.name,
          columns,
          name,
          description: `index ${table.name}(${columns.join(', ')}) for its links`,
          destructive: false,
        });
      }
    }
  }
  return steps;
}

function columnList(names: string[]): RawBuilder<unknown> {
  return sql.join(names.map((n) => sql.id(n)));
}

function createTableSql(table: TableDef, dialect: SqlDialect): RawBuilder<unknown> {
  const columns = table.columns.map((c) => {
    const notNull = table.primaryKey.includes(c.name) ? sql` NOT NULL` : sql``;
    return sql`${sql.id(c.name)} ${sql.raw(dialect.columnType(c.type))}${notNull}`;
  });
  return sql`CREATE TABLE ${dialect.dataTableRef(table.name)} (${sql.join(columns)}, PRIMARY KEY (${columnList(table.primaryKey)}))`;
}

function indexRef(dialect: SqlDialect, name: string): RawBuilder<unknown> {
  return dialect.kind === 'postgres' ? sql.id('data', name) : sql.id(name);
}

async function runStep(
  trx: Kysely<BatonTables>,
  step: SchemaStep,
  next: WorkspaceSchema,
  dialect: SqlDialect,
): Promise<void> {
  const tableRef = dialect.dataTableRef(step.table);
  const table = findTable(next, step.table);
  switch (step.kind) {
    case 'create-table':
      await sql`${createTableSql(table!, dialect)}`.execute(trx);
      return;
    case 'change-key':
      await sql`DROP TABLE ${tableRef}`.execute(trx);
      await sql`${createTableSql(table!, dialect)}`.execute(trx);
      return;
    case 'add-column':
      await sql`ALTER TABLE ${tableRef} ADD COLUMN ${sql.id(step.column)} ${sql.raw(dialect.columnType(step.type))}`.execute(
        trx,
      );
      return;
    case 'change-type':
      await sql`ALTER TABLE ${tableRef} DROP COLUMN ${sql.id(step.column)}`.execute(trx);
      await sql`ALTER TABLE ${tableRef} ADD COLUMN ${sql.id(step.column)} ${sql.raw(dialect.columnType(step.type))}`.execute(
        trx,
      );
      return;
    case 'drop-column':
      await sql`ALTER TABLE ${tableRef} DROP COLUMN ${sql.id(step.column)}`.execute(trx);
      return;
    case 'drop-table':
      await sql`DROP TABLE ${tableRef}`.execute(trx);
      return;
    case 'create-index':
      await sql`CREATE INDEX ${sql.id(step.name)} ON ${tableRef} (${columnList(step.columns)})`.execute(trx);
      return;
    case 'drop-index':
      await sql`DROP INDEX ${indexRef(dialect, step.name)}`.execute(trx);
      return;
  }
}

function summarize(steps: SchemaStep[]): string {
  if (steps.length === 0) return 'no change to the tables';
  const names = (kind: SchemaStep['kind'], name: (s: SchemaStep) => string) =>
    steps.filter((s) => s.kind === kind).map(name);
  const parts: string[] = [];
  const say = (verb: string, items: string[]) => {
    if (items.length > 0) parts.push(`${verb} ${items.join(', ')}`);
  };
  const column = (s: SchemaStep) => ('column' in s ? `${s.table}.${s.column}` : s.table);
  say(
    'creates table',
    names('create-table', (s) => s.table),
  );
  say('adds column', names('add-column', column));
  say(
    'drops table',
    names('drop-table', (s) => s.table),
  );
  say('drops column', names('drop-column', column));
  say('changes the type of', names('change-type', column));
  say(
    'recreates (new key)',
    names('change-key', (s) => s.table),
  );
  const indexes = steps.filter((s) => s.kind === 'create-index').length;
  if (indexes > 0) parts.push(`adds ${indexes} index${indexes > 1 ? 'es' : ''}`);
  if (parts.length === 0) parts.push('updates indexes');
  return `${parts.join('; ')}; ${steps.some((s) => s.destructive) ? 'DATA LOSS' : 'no data loss'}`;
}

export interface ApplySchemaOptions {
  allowDrop?: boolean;
  dryRun?: boolean;
}

/** Plans and (unless a dry run) applies a schema in one transaction, recording it as a new version. */
export async function applySchema(
  database: Database,
  next: WorkspaceSchema,
  options: ApplySchemaOptions = {},
): Promise<SchemaChangeResult> {
  const stored = await loadSchema(database);
  const physical = await introspectDataTables(database);
  const steps = planSchemaChange(stored?.schema, next, physical, database.dialect);
  // Dropping an index must come before dropping the columns it covers (SQLite refuses otherwise).
  steps.sort((a, b) => Number(b.kind === 'drop-index') - Number(a.kind === 'drop-index'));
  const changed = !stored || JSON.stringify(stored.schema) !== JSON.stringify(next) || steps.length > 0;
  const summary = summarize(steps);
  const lossy = steps.filter((s) => s.destructive);
  const version = changed ? (stored?.version ?? 0) + 1 : stored.version;
  if (options.dryRun) return { version, changed, dryRun: true, steps, summary };
  if (lossy.length > 0 && !options.allowDrop) {
    throw new UserError(
      `This schema change would delete data:\n${lossy.map((s) => `  - ${s.description}`).join('\n')}\n` +
        'Nothing was changed. Re-run with --allow-drop (API: ?allowDrop=true) to apply it anyway.',
      { status: 409, issues: lossy.map((s) => ({ path: `tables.${s.table}`, message: s.description })) },
    );
  }
  if (!changed) return { version, changed, dryRun: false, steps, summary };
  await database.db.transaction().execute(async (trx) => {
    for (const step of steps) await runStep(trx, step, next, database.dialect);
    await trx
      .insertInto('workspace_schemas')
      .values({
        version,
        document: JSON.stringify(schemaToDocument(next)),
        applied_at: new Date().toISOString(),
      })
      .execute();
  });
  return { version, changed, dryRun: false, steps, summary };
}
