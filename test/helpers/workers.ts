import { spawn, type ChildProcess } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { ROOT } from './cli.ts';
import type { TestDatabase } from './databases.ts';

/**
 * `baton worker` processes for tests, on the test's database and with the settings given (an SMTP sink,
 * short leases): started as people start them, killed outright or stopped with SIGTERM.
 */
export function startWorkerProcess(t: TestDatabase, settings: Record<string, string>): ChildProcess {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of ['DATABASE_URL', 'BATON_DATA_DIR', 'PORT', 'HOST', 'LOG_LEVEL']) delete env[key];
  Object.assign(env, {
    BATON_DATA_DIR: t.config.dataDir,
    ...(t.config.databaseUrl ? { DATABASE_URL: t.config.databaseUrl } : {}),
    BATON_SECRET: 's'.repeat(40),
    LOG_LEVEL: 'warn',
    ...settings,
  });
  return spawn(process.execPath, ['bin/baton.js', 'worker'], { cwd: ROOT, env, stdio: 'ignore' });
}

/** Sends `signal` and waits for the process to exit; its exit code. */
export async function stopProcess(child: ChildProcess, signal: NodeJS.Signals): Promise<number | null> {
  if (child.exitCode !== null || child.signalCode !== null) return child.exitCode;
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  child.kill(signal);
  return exited;
}

/** Polls `condition` every 50 ms until it holds; fails naming `what` after `ms`. */
export async function waitFor(
  condition: () => boolean | Promise<boolean>,
  what: string,
  ms = 120_000,
): Promise<void> {
  const until = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await delay(50);
  }
}
