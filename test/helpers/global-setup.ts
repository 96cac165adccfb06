import pg from 'pg';
import type { TestProject } from 'vitest/node';

declare module 'vitest' {
  export interface ProvidedContext {
    pgAvailable: boolean;
  }
}

/**
 * Decides once per run whether the PostgreSQL half of the suite runs. Outside CI an unreachable server is a
 * skip with a notice; with CI=true it is a failure, since CI must test both databases.
 */
export default async function setup(project: TestProject): Promise<void> {
  const url = process.env.BATON_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
    project.provide('pgAvailable', true);
  } catch (error) {
    if (process.env.CI === 'true') {
      throw new Error(`CI=true but PostgreSQL is unreachable at ${url}: ${(error as Error).message}`, {
        cause: error,
      });
    }
    project.provide('pgAvailable', false);
    console.warn(`PostgreSQL unreachable at ${url}: running the SQLite half of the suite only.`);
  } finally {
    await client.end().catch(() => undefined);
  }
}
