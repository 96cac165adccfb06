import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { parse as parseYaml } from 'yaml';
import { UserError } from './errors.ts';

/** Runtime configuration: environment variables, each also settable in `baton.config.yaml`. */
export interface BatonConfig {
  /** Folder of the embedded database and local files (default `./.baton`). */
  dataDir: string;
  /** PostgreSQL URL; when absent Baton runs embedded on SQLite. */
  databaseUrl: string | undefined;
  port: number;
  host: string;
  publicUrl: string;
  /** Days a run's working tables are kept for inspection (counts and logs are kept for good). */
  runRetentionDays: number;
  /** Tasks of one run executing at the same time (independent branches). */
  runConcurrency: number;
}

/** Independent branches of one run executing at once, unless configured. */
export const DEFAULT_RUN_CONCURRENCY = 4;

const KEYS = [
  'BATON_DATA_DIR',
  'DATABASE_URL',
  'PORT',
  'HOST',
  'BATON_PUBLIC_URL',
  'BATON_RUN_RETENTION_DAYS',
  'BATON_RUN_CONCURRENCY',
] as const;
type Key = (typeof KEYS)[number];

function readConfigFile(cwd: string): Partial<Record<Key, string>> {
  const file = path.join(cwd, 'baton.config.yaml');
  if (!existsSync(file)) return {};
  let parsed: unknown;
  try {
    parsed = parseYaml(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new UserError(`baton.config.yaml is not valid YAML: ${(error as Error).message}`);
  }
  if (parsed === null || parsed === undefined) return {};
  if (typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new UserError('baton.config.yaml must be a mapping of setting names (e.g. PORT: 8080) to values.');
  }
  const out: Partial<Record<Key, string>> = {};
  for (const [name, value] of Object.entries(parsed as Record<string, unknown>)) {
    if (!(KEYS as readonly string[]).includes(name)) {
      throw new UserError(`baton.config.yaml: unknown setting "${name}" (known: ${KEYS.join(', ')}).`);
    }
    out[name as Key] = String(value);
  }
  return out;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): BatonConfig {
  const file = readConfigFile(cwd);
  const get = (key: Key): string | undefined => {
    const value = env[key] ?? file[key];
    return value === undefined || value === '' ? undefined : value;
  };
  const portText = get('PORT') ?? '8080';
  const port = Number(portText);
  if (!Number.isInteger(port) || port < 0 || port > 65535) {
    throw new UserError(`PORT must be a whole number from 0 to 65535, not "${portText}".`);
  }
  const databaseUrl = get('DATABASE_URL');
  if (databaseUrl !== undefined && !/^postgres(ql)?:\/\//.test(databaseUrl)) {
    throw new UserError('DATABASE_URL must be a PostgreSQL URL such as postgres://user@host:5432/baton.');
  }
  const retentionText = get('BATON_RUN_RETENTION_DAYS') ?? '5';
  const runRetentionDays = Number(retentionText);
  if (!Number.isFinite(runRetentionDays) || runRetentionDays < 0) {
    throw new UserError(`BATON_RUN_RETENTION_DAYS must be a number of days ≥ 0, not "${retentionText}".`);
  }
  const concurrencyText = get('BATON_RUN_CONCURRENCY') ?? String(DEFAULT_RUN_CONCURRENCY);
  const runConcurrency = Number(concurrencyText);
  if (!Number.isInteger(runConcurrency) || runConcurrency < 1 || runConcurrency > 64) {
    throw new UserError(
      `BATON_RUN_CONCURRENCY must be a whole number from 1 to 64, not "${concurrencyText}".`,
    );
  }
  return {
    dataDir: path.resolve(cwd, get('BATON_DATA_DIR') ?? '.baton'),
    databaseUrl,
    port,
    host: get('HOST') ?? '127.0.0.1',
    publicUrl: get('BATON_PUBLIC_URL') ?? `http://localhost:${port}`,
    runRetentionDays,
    runConcurrency,
  };
}
