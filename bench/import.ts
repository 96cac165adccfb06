import { createReadStream, createWriteStream, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import { parseArgs } from 'node:util';
import pg from 'pg';
import { from as copyFrom } from 'pg-copy-streams';
import { demoTables } from '../src/data/demo/generate.ts';
import { DEMO_SCHEMA_FILE } from '../src/data/demo/load-demo.ts';
import { importCsv } from '../src/data/import/run-import.ts';
import { openDatabase, openSqliteConnection, type Database } from '../src/db/database.ts';
import { formatIsoDatetime, formatSqliteDatetime } from '../src/db/bulk-values.ts';
import { applySchema } from '../src/schema/migrate.ts';
import { parseSchemaText } from '../src/schema/parse.ts';
import { findTable, type CellValue } from '../src/schema/types.ts';

/**
 * bench/import: rows/s of `importCsv` loading N demo profiles from a CSV file, on SQLite and PostgreSQL,
 * each against a lower bound measured in the same run on the same machine:
 * - SQLite: a prepared INSERT loop in one transaction over values already parsed in memory;
 * - PostgreSQL: the server's own `COPY … FROM STDIN (FORMAT csv)` of the same file.
 * Both lower bounds write into the same table with the same index as the import.
 */
const PG_ADMIN_URL = process.env.BATON_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

function csvField(value: CellValue, type: string): string {
  if (value === null) return '';
  if (type === 'datetime') return formatIsoDatetime(value as number);
  const text = String(value);
  return /[",\n\r]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export async function writeProfilesCsv(
  file: string,
  profiles: number,
): Promise<{ columns: string[]; types: string[] }> {
  const table = demoTables({ profiles, seed: 'bench', asOf: new Date('2026-11-01T00:00:00Z') }).find(
    (t) => t.table === 'profiles',
  )!;
  const schema = parseSchemaText(readFileSync(DEMO_SCHEMA_FILE, 'utf8'));
  const types = table.columns.map(
    (c) => findTable(schema, 'profiles')!.columns.find((x) => x.name === c)!.type,
  );
  const out = createWriteStream(file);
  function* lines() {
    yield `${table.columns.join(',')}\n`;
    let chunk = '';
    for (const row of table.rows()) {
      chunk += `${row.map((v, i) => csvField(v, types[i]!)).join(',')}\n`;
      if (chunk.length > 1 << 16) {
        yield chunk;
        chunk = '';
      }
    }
    yield chunk;
  }
  await pipeline(lines, out);
  return { columns: table.columns, types };
}

async function freshWorkspace(config: { dataDir: string; databaseUrl?: string }): Promise<Database> {
  const database = await openDatabase({ dataDir: config.dataDir, databaseUrl: config.databaseUrl });
  await applySchema(database, parseSchemaText(readFileSync(DEMO_SCHEMA_FILE, 'utf8')));
  return database;
}

function rate(rows: number, ms: number): number {
  return Math.round((rows * 1000) / ms);
}

function line(label: string, rows: number, ms: number): void {
  process.stdout.write(
    `  ${label.padEnd(34)} ${(ms / 1000).toFixed(2).padStart(7)} s  ${rate(rows, ms).toLocaleString('en-US').padStart(10)} rows/s\n`,
  );
}

async function timed<T>(work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await work();
  return { ms: performance.now() - start, value };
}

async function sqliteBench(folder: string, csv: string, rows: number): Promise<void> {
  process.stdout.write('SQLite\n');
  const importDir = path.join(folder, 'sqlite-import');
  const database = await freshWorkspace({ dataDir: importDir });
  const insert = await timed(() => importCsv(database, { table: 'profiles', file: csv, mode: 'insert' }));
  if (insert.value.inserted !== rows) throw new Error(`import inserted ${insert.value.inserted} of ${rows}`);
  line('import --mode insert', rows, insert.ms);
  const upsert = await timed(() => importCsv(database, { table: 'profiles', file: csv, mode: 'upsert' }));
  line('import --mode upsert (all updates)', rows, upsert.ms);
  await database.close();

  // Lower bound: the same rows, already typed in memory, through one prepared statement in one transaction.
  const boundDir = path.join(folder, 'sqlite-bound');
  const bound = await freshWorkspace({ dataDir: boundDir });
  const schema = parseSchemaText(readFileSync(DEMO_SCHEMA_FILE, 'utf8'));
  const profiles = findTable(schema, 'profiles')!;
  const table = demoTables({ profiles: rows, seed: 'bench', asOf: new Date('2026-11-01T00:00:00Z') }).find(
    (t) => t.table === 'profiles',
  )!;
  const types = table.columns.map((c) => profiles.columns.find((x) => x.name === c)!.type);
  // What a hand-written loader would bind: numbers as numbers, booleans as 0/1, times as SQLite's text.
  const bind = (type: string, v: CellValue) =>
    v === null
      ? null
      : type === 'boolean'
        ? v
          ? 1
          : 0
        : type === 'datetime'
          ? formatSqliteDatetime(v as number)
          : v;
  const values = [...table.rows()].map((row) => row.map((v, i) => bind(types[i]!, v)));
  await bound.close();
  const connection = openSqliteConnection(path.join(boundDir, 'baton.db'));
  const statement = connection.prepare(
    `INSERT INTO data_profiles (${table.columns.join(', ')}) VALUES (${table.columns.map(() => '?').join(', ')})`,
  );
  const loop = await timed(() => {
    connection.transaction(() => {
      for (const row of values) statement.run(row);
    })();
    return Promise.resolve();
  });
  connection.close();
  line('lower bound: prepared insert loop', rows, loop.ms);
  process.stdout.write(
    `  ratio import/lower bound: ${(loop.ms / insert.ms).toFixed(2)}× (target ≥ 0.7×; ≥ 100,000 rows/s)\n`,
  );
}

async function postgresBench(csv: string, rows: number, folder: string): Promise<void> {
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await admin.connect();
  } catch (error) {
    process.stdout.write(`PostgreSQL: skipped (${(error as Error).message})\n`);
    return;
  }
  process.stdout.write('PostgreSQL\n');
  const names = [`baton_bench_import_${process.pid}`, `baton_bench_bound_${process.pid}`];
  const urlFor = (name: string) => {
    const url = new URL(PG_ADMIN_URL);
    url.pathname = `/${name}`;
    return url.toString();
  };
  try {
    for (const name of names) await admin.query(`CREATE DATABASE ${name}`);
    const database = await freshWorkspace({ dataDir: folder, databaseUrl: urlFor(names[0]!) });
    const insert = await timed(() => importCsv(database, { table: 'profiles', file: csv, mode: 'insert' }));
    if (insert.value.inserted !== rows)
      throw new Error(`import inserted ${insert.value.inserted} of ${rows}`);
    line('import --mode insert', rows, insert.ms);
    const upsert = await timed(() => importCsv(database, { table: 'profiles', file: csv, mode: 'upsert' }));
    line('import --mode upsert (all updates)', rows, upsert.ms);
    await database.close();

    const bound = await freshWorkspace({ dataDir: folder, databaseUrl: urlFor(names[1]!) });
    await bound.close();
    const client = new pg.Client({ connectionString: urlFor(names[1]!) });
    await client.connect();
    const header = readFileSync(csv, 'utf8').slice(0, 400).split('\n')[0]!;
    const copy = await timed(() =>
      pipeline(
        createReadStream(csv),
        client.query(copyFrom(`COPY data.profiles (${header}) FROM STDIN (FORMAT csv, HEADER true)`)),
      ),
    );
    await client.end();
    line('lower bound: COPY FROM STDIN (csv)', rows, copy.ms);
    process.stdout.write(
      `  ratio import/lower bound: ${(copy.ms / insert.ms).toFixed(2)}× (target ≥ 0.7×)\n`,
    );
  } finally {
    for (const name of names) await admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    await admin.end();
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { rows: { type: 'string', default: '1000000' }, only: { type: 'string' } },
  });
  const rows = Number(values.rows);
  const folder = mkdtempSync(path.join(tmpdir(), 'baton-bench-import-'));
  try {
    const csv = path.join(folder, 'profiles.csv');
    const written = await timed(() => writeProfilesCsv(csv, rows));
    process.stdout.write(
      `bench/import: ${rows.toLocaleString('en-US')} demo profiles, ${written.value.columns.length} columns (CSV written in ${(written.ms / 1000).toFixed(1)} s)\n`,
    );
    if (values.only !== 'postgres') await sqliteBench(folder, csv, rows);
    if (values.only !== 'sqlite') await postgresBench(csv, rows, folder);
  } finally {
    rmSync(folder, { recursive: true, force: true });
  }
}
