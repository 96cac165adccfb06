import { readFileSync } from 'node:fs';
import type { Database } from '../../db/database.ts';
import { UserError } from '../../errors.ts';
import { applySchema } from '../../schema/migrate.ts';
import { parseSchemaText } from '../../schema/parse.ts';
import { loadSchema } from '../../schema/store.ts';
import { findTable } from '../../schema/types.ts';
import { bulkInsert } from '../bulk-load.ts';
import { countRows } from '../table-rows.ts';
import { demoTables } from './generate.ts';

/** The demo workspace: the retail schema of examples/retail and its generated data. */
export const DEMO_SCHEMA_FILE = new URL('../../../examples/retail/baton.yaml', import.meta.url);
export const DEFAULT_DEMO_PROFILES = 10_000;
export const DEFAULT_DEMO_SEED = 'baton-demo';

export interface DemoLoadOptions {
  profiles?: number;
  seed?: string;
  /** The day the data is relative to (default: today, UTC midnight). */
  asOf?: Date;
  /** Replace whatever workspace is there. */
  force?: boolean;
  onProgress?: (table: string, rows: number, expected: number) => void;
}

export interface DemoLoadResult {
  schemaVersion: number;
  rows: Record<string, number>;
  seed: string;
  asOf: string;
  durationMs: number;
}

function todayUtc(): Date {
  const now = new Date();
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
}

/** True when the workspace has no schema yet, or only empty tables. */
export async function isWorkspaceEmpty(database: Database): Promise<boolean> {
  const stored = await loadSchema(database);
  if (!stored) return true;
  for (const table of stored.schema.tables) if ((await countRows(database, table.name)) > 0) return false;
  return true;
}

export async function loadDemo(database: Database, options: DemoLoadOptions = {}): Promise<DemoLoadResult> {
  const started = Date.now();
  const profiles = options.profiles ?? DEFAULT_DEMO_PROFILES;
  if (!Number.isInteger(profiles) || profiles < 1 || profiles > 10_000_000) {
    throw new UserError('--profiles must be a whole number from 1 to 10,000,000.');
  }
  if (!options.force && !(await isWorkspaceEmpty(database))) {
    throw new UserError(
      'The workspace already has data. Run `baton demo --force` to replace it with the demo workspace.',
    );
  }
  const schema = parseSchemaText(readFileSync(DEMO_SCHEMA_FILE, 'utf8'), 'examples/retail/baton.yaml');
  const applied = await applySchema(database, schema, { allowDrop: options.force === true });
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  const asOf = options.asOf ?? todayUtc();
  const tables = demoTables({ profiles, seed, asOf });
  const expected = new Map<string, number>(tables.map((t) => [t.table, t.expectedRows]));
  const rows = await bulkInsert(
    database,
    tables.map((t) => ({ table: findTable(schema, t.table)!, columns: t.columns, rows: t.rows() })),
    {
      replace: options.force === true,
      onProgress: (table, count) => options.onProgress?.(table, count, expected.get(table) ?? count),
    },
  );
  return {
    schemaVersion: applied.version,
    rows,
    seed,
    asOf: asOf.toISOString().slice(0, 10),
    durationMs: Date.now() - started,
  };
}
