import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { TestDatabase } from './databases.ts';

/**
 * The `baton` command as people and scripts run it: `node bin/baton.js …` in a child process, from the
 * project root, configured only by the environment.
 */
export const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface Run {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs the CLI with exactly these Baton settings (none inherited from the environment of the tests). */
export function baton(
  args: string[],
  settings: { BATON_DATA_DIR: string; DATABASE_URL?: string | undefined },
): Promise<Run> {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['DATABASE_URL', 'BATON_DATA_DIR', 'PORT', 'HOST', 'BATON_PUBLIC_URL']) delete env[key];
  env.BATON_DATA_DIR = settings.BATON_DATA_DIR;
  if (settings.DATABASE_URL !== undefined) env.DATABASE_URL = settings.DATABASE_URL;
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['bin/baton.js', ...args], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** The single JSON document a `--json` run prints on stdout (JSON.parse fails on anything extra). */
export function json<T>(run: Run): T {
  return JSON.parse(run.stdout) as T;
}

/** The settings that make the CLI open the test's database. */
export function settingsOf(t: TestDatabase) {
  return { BATON_DATA_DIR: t.config.dataDir, DATABASE_URL: t.config.databaseUrl };
}
