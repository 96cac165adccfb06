import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, inject } from 'vitest';
import { openDatabase, type Database } from '../../src/db/database.ts';

/**
 * Runs a block of behaviour tests once on SQLite (a real file) and once on PostgreSQL (a database created
 * for this file and dropped after). PostgreSQL is skipped only when it is unreachable outside CI.
 */
export const PG_URL = process.env.BATON_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export interface TestDatabase {
  /** The open database; valid inside tests and hooks. */
  readonly database: Database;
  /** Config that opens the same database again (a second process, the CLI). */
  readonly config: { dataDir: string; databaseUrl: string | undefined };
}

function pgUrlFor(name: string): string {
  const url = new URL(PG_URL);
  url.pathname = `/${name}`;
  return url.toString();
}

export async function createTestDatabase(kind: 'sqlite' | 'postgres'): Promise<{
  config: TestDatabase['config'];
  drop: () => Promise<void>;
}> {
  const dataDir = mkdtempSync(path.join(tmpdir(), 'baton-test-'));
  if (kind === 'sqlite') {
    return {
      config: { dataDir, databaseUrl: undefined },
      drop: () => Promise.resolve(rmSync(dataDir, { recursive: true, force: true })),
    };
  }
  const name = `baton_t_${process.pid}_${Math.random().toString(36).slice(2, 10)}`;
  const admin = new pg.Client({ connectionString: PG_URL });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  return {
    config: { dataDir, databaseUrl: pgUrlFor(name) },
    drop: async () => {
      rmSync(dataDir, { recursive: true, force: true });
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await client.end();
    },
  };
}

export function kindsUnderTest(): Array<'sqlite' | 'postgres'> {
  return inject('pgAvailable') ? ['sqlite', 'postgres'] : ['sqlite'];
}

/** `describe` once per database; each gets its own fresh database for the whole block. */
export function describeEachDatabase(name: string, body: (t: TestDatabase) => void): void {
  for (const kind of kindsUnderTest()) {
    describe(`${name} [${kind}]`, () => {
      let database: Database | undefined;
      let drop: (() => Promise<void>) | undefined;
      let config: TestDatabase['config'] | undefined;
      beforeAll(async () => {
        const created = await createTestDatabase(kind);
        config = created.config;
        drop = created.drop;
        database = await openDatabase(config);
      });
      afterAll(async () => {
        await database?.close();
        await drop?.();
      });
      body({
        get database() {
          if (!database) throw new Error('database not open yet');
          return database;
        },
        get config() {
          if (!config) throw new Error('database not created yet');
          return config;
        },
      });
    });
  }
}
