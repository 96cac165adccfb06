import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { openDatabase, type Database } from '../src/db/database.ts';

/**
 * Runs a benchmark once on a fresh SQLite workspace and once on a fresh PostgreSQL database (created and
 * dropped for it; skipped with a note when PostgreSQL is unreachable). `only` limits it to one of them.
 */
export type BenchConfig = { dataDir: string; databaseUrl: string | undefined };

const PG_ADMIN_URL = process.env.BATON_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export async function onEachDatabase(
  name: string,
  only: string | undefined,
  work: (label: string, database: Database, config: BenchConfig) => Promise<void>,
): Promise<void> {
  if (only !== 'postgres') {
    const folder = mkdtempSync(path.join(tmpdir(), `baton-bench-${name}-`));
    const config = { dataDir: folder, databaseUrl: undefined };
    const database = await openDatabase(config);
    try {
      await work('SQLite', database, config);
    } finally {
      await database.close();
      rmSync(folder, { recursive: true, force: true });
    }
  }
  if (only === 'sqlite') return;
  const admin = new pg.Client({ connectionString: PG_ADMIN_URL });
  try {
    await admin.connect();
  } catch (error) {
    process.stdout.write(`PostgreSQL: skipped (${(error as Error).message})\n`);
    return;
  }
  const databaseName = `baton_bench_${name}_${process.pid}`;
  await admin.query(`CREATE DATABASE ${databaseName}`);
  const url = new URL(PG_ADMIN_URL);
  url.pathname = `/${databaseName}`;
  const folder = mkdtempSync(path.join(tmpdir(), `baton-bench-${name}-`));
  const config = { dataDir: folder, databaseUrl: url.toString() };
  const database = await openDatabase(config);
  try {
    await work('PostgreSQL', database, config);
  } finally {
    await database.close();
    await admin.query(`DROP DATABASE IF EXISTS ${databaseName} WITH (FORCE)`);
    await admin.end();
    rmSync(folder, { recursive: true, force: true });
  }
}
