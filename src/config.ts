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
  /**
   * How long a sender's claim on a batch of messages holds: after a crash, its messages wait this long
   * before being recovered (resent or counted uncertain).
   */
  sendLeaseMs: number;
  /** Port of the dev outbox (embedded mode's local SMTP server). */
  outboxPort: number;
  /** Channel provider settings, checked when the providers are built (src/channels/providers/registry.ts). */
  providers: ProviderSettings;
  /**
   * The key that signs tracking links (`[id:]secret`) and the retired ones (`id:secret:retiredAt,…`), read
   * by src/tracking/keys.ts. Secrets: never log them.
   */
  secret: string | undefined;
  previousSecrets: string | undefined;
}

/**
 * The raw provider settings. Which of them are required depends on the chosen provider, so they are checked
 * where the providers are built, with errors that name the missing variable.
 */
export interface ProviderSettings {
  smtpUrl: string | undefined;
  smtpMaxConnections: number;
  smtpMaxMessages: number;
  /** Messages per second each channel's provider takes, all senders of all processes together; 0: none. */
  rates: { email: number; sms: number; push: number };
  smsProvider: string;
  smsUrl: string | undefined;
  smsAccount: string | undefined;
  smsToken: string | undefined;
  smsFrom: string | undefined;
  pushProvider: string;
  fcmServiceAccount: string | undefined;
  fcmUrl: string | undefined;
  apnsKeyFile: string | undefined;
  apnsKeyId: string | undefined;
  apnsTeamId: string | undefined;
  apnsTopic: string | undefined;
  apnsHost: string | undefined;
  vapidPublicKey: string | undefined;
  vapidPrivateKey: string | undefined;
  vapidSubject: string | undefined;
}

/** The dev outbox's usual port (the conventional submission port for test servers). */
export const DEFAULT_OUTBOX_PORT = 2525;

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
  'BATON_SEND_LEASE_SECONDS',
  'BATON_SECRET',
  'BATON_SECRET_PREVIOUS',
  'BATON_OUTBOX_PORT',
  'SMTP_URL',
  'SMTP_MAX_CONNECTIONS',
  'SMTP_MAX_MESSAGES',
  'EMAIL_RATE',
  'SMS_RATE',
  'PUSH_RATE',
  'SMS_PROVIDER',
  'SMS_URL',
  'SMS_ACCOUNT',
  'SMS_TOKEN',
  'SMS_FROM',
  'PUSH_PROVIDER',
  'FCM_SERVICE_ACCOUNT',
  'FCM_URL',
  'APNS_KEY_FILE',
  'APNS_KEY_ID',
  'APNS_TEAM_ID',
  'APNS_TOPIC',
  'APNS_HOST',
  'VAPID_PUBLIC_KEY',
  'VAPID_PRIVATE_KEY',
  'VAPID_SUBJECT',
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
  const wholeNumber = (key: Key, fallback: number, min: number, max: number): number => {
    const text = get(key) ?? String(fallback);
    const value = Number(text);
    if (!Number.isInteger(value) || value < min || value > max) {
      throw new UserError(`${key} must be a whole number from ${min} to ${max}, not "${text}".`);
    }
    return value;
  };
  const filePath = (key: Key): string | undefined => {
    const value = get(key);
    return value === undefined ? undefined : path.resolve(cwd, value);
  };
  return {
    dataDir: path.resolve(cwd, get('BATON_DATA_DIR') ?? '.baton'),
    databaseUrl,
    port,
    host: get('HOST') ?? '127.0.0.1',
    publicUrl: get('BATON_PUBLIC_URL') ?? `http://localhost:${port}`,
    runRetentionDays,
    runConcurrency: wholeNumber('BATON_RUN_CONCURRENCY', DEFAULT_RUN_CONCURRENCY, 1, 64),
    sendLeaseMs: wholeNumber('BATON_SEND_LEASE_SECONDS', 120, 1, 86_400) * 1000,
    secret: get('BATON_SECRET'),
    previousSecrets: get('BATON_SECRET_PREVIOUS'),
    outboxPort: wholeNumber('BATON_OUTBOX_PORT', DEFAULT_OUTBOX_PORT, 1, 65535),
    providers: {
      smtpUrl: get('SMTP_URL'),
      smtpMaxConnections: wholeNumber('SMTP_MAX_CONNECTIONS', 5, 1, 100),
      smtpMaxMessages: wholeNumber('SMTP_MAX_MESSAGES', 100, 1, 100_000),
      // Messages per second each channel's provider takes, all senders together (0: no limit).
      rates: {
        email: wholeNumber('EMAIL_RATE', 0, 0, 1_000_000),
        sms: wholeNumber('SMS_RATE', 0, 0, 1_000_000),
        push: wholeNumber('PUSH_RATE', 0, 0, 1_000_000),
      },
      smsProvider: get('SMS_PROVIDER') ?? 'simulator',
      smsUrl: get('SMS_URL'),
      smsAccount: get('SMS_ACCOUNT'),
      smsToken: get('SMS_TOKEN'),
      smsFrom: get('SMS_FROM'),
      pushProvider: get('PUSH_PROVIDER') ?? 'simulator',
      fcmServiceAccount: filePath('FCM_SERVICE_ACCOUNT'),
      fcmUrl: get('FCM_URL'),
      apnsKeyFile: filePath('APNS_KEY_FILE'),
      apnsKeyId: get('APNS_KEY_ID'),
      apnsTeamId: get('APNS_TEAM_ID'),
      apnsTopic: get('APNS_TOPIC'),
      apnsHost: get('APNS_HOST'),
      vapidPublicKey: get('VAPID_PUBLIC_KEY'),
      vapidPrivateKey: get('VAPID_PRIVATE_KEY'),
      vapidSubject: get('VAPID_SUBJECT'),
    },
  };
}
