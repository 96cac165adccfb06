import { createPrivateKey, createPublicKey, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { domainToASCII } from 'node:url';
import { parse as parseYaml } from 'yaml';
import { UserError, unreadableFile } from './errors.ts';
import { parsePop3Url } from './tracking/feedback/pop3-client.ts';
import { VONAGE_SIGNATURE_METHODS, type VonageSignatureMethod } from './tracking/feedback/sms-callbacks.ts';

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
  /** Days an archived campaign is kept before it is purged. */
  archivePurgeDays: number;
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
  /**
   * What a bounce mailbox's forwarder presents (`Authorization: Bearer …`) to post email reports to
   * `/webhooks/smtp`; unset, that route refuses every post. A secret: never log it.
   */
  webhookSecret: string | undefined;
  /** A POP3 mailbox bounce reports are read from (`pop3s://user:pass@host`); it holds a password. */
  bounceMailboxUrl: string | undefined;
  bounceMailboxPollMs: number;
  /** pino's level; undefined: each process's own default (the server warns, a worker informs). */
  logLevel: LogLevel | undefined;
  /** Undefined: pretty on a terminal, JSON lines otherwise (src/operations/logger.ts). */
  logFormat: LogFormat | undefined;
}

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];
export const LOG_FORMATS = ['json', 'pretty'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

/**
 * The raw provider settings. Which of them are required depends on the chosen provider, so they are checked
 * where the providers are built, with errors that name the missing variable.
 */
export interface ProviderSettings {
  smtpUrl: string | undefined;
  smtpMaxConnections: number;
  smtpMaxMessages: number;
  /** DKIM signing of email (SMTP_DKIM_*), when configured. */
  smtpDkim: DkimSettings | undefined;
  /** The envelope sender bounce reports go to; unset, each message's From address. */
  smtpBounceAddress: string | undefined;
  /** Messages per second each channel's provider takes, all senders of all processes together; 0: none. */
  rates: { email: number; sms: number; push: number };
  smsProvider: string;
  smsUrl: string | undefined;
  smsAccount: string | undefined;
  smsToken: string | undefined;
  smsFrom: string | undefined;
  /** Vonage's signature secret: its delivery receipts are accepted signed with it only. */
  smsSignatureSecret: string | undefined;
  smsSignatureMethod: VonageSignatureMethod;
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

/**
 * The key email is signed with (RFC 6376) and where receivers find its public half: the TXT record
 * `<selector>._domainkey.<domain>`. Checked when the configuration loads, so a bad key stops Baton at start
 * instead of every message going out unsigned (nodemailer sends a message unsigned when signing fails).
 */
export interface DkimSettings {
  /** The signing domain (`d=`), in ASCII: the From domain or a parent of it, for DMARC alignment. */
  domain: string;
  selector: string;
  /** A secret: a KeyObject, so that printing or serialising the configuration never shows it. */
  privateKey: KeyObject;
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
  'BATON_ARCHIVE_PURGE_DAYS',
  'BATON_SEND_LEASE_SECONDS',
  'BATON_SECRET',
  'BATON_SECRET_PREVIOUS',
  'BATON_WEBHOOK_SECRET',
  'BOUNCE_MAILBOX_URL',
  'BOUNCE_MAILBOX_POLL_SECONDS',
  'BATON_OUTBOX_PORT',
  'LOG_LEVEL',
  'LOG_FORMAT',
  'SMTP_URL',
  'SMTP_MAX_CONNECTIONS',
  'SMTP_MAX_MESSAGES',
  'SMTP_DKIM_DOMAIN',
  'SMTP_DKIM_SELECTOR',
  'SMTP_DKIM_PRIVATE_KEY',
  'SMTP_DKIM_PRIVATE_KEY_FILE',
  'SMTP_BOUNCE_ADDRESS',
  'EMAIL_RATE',
  'SMS_RATE',
  'PUSH_RATE',
  'SMS_PROVIDER',
  'SMS_URL',
  'SMS_ACCOUNT',
  'SMS_TOKEN',
  'SMS_FROM',
  'SMS_SIGNATURE_SECRET',
  'SMS_SIGNATURE_METHOD',
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
  const oneOf = <T extends string>(key: Key, values: readonly T[]): T | undefined => {
    const value = get(key);
    if (value === undefined || (values as readonly string[]).includes(value)) return value as T | undefined;
    throw new UserError(`${key} must be one of ${values.join(', ')}, not "${value}".`);
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
    archivePurgeDays: wholeNumber('BATON_ARCHIVE_PURGE_DAYS', 30, 1, 3650),
    sendLeaseMs: wholeNumber('BATON_SEND_LEASE_SECONDS', 120, 1, 86_400) * 1000,
    secret: get('BATON_SECRET'),
    previousSecrets: get('BATON_SECRET_PREVIOUS'),
    webhookSecret: get('BATON_WEBHOOK_SECRET'),
    bounceMailboxUrl: checkedMailboxUrl(get('BOUNCE_MAILBOX_URL')),
    bounceMailboxPollMs: wholeNumber('BOUNCE_MAILBOX_POLL_SECONDS', 60, 5, 86_400) * 1000,
    outboxPort: wholeNumber('BATON_OUTBOX_PORT', DEFAULT_OUTBOX_PORT, 1, 65535),
    logLevel: oneOf('LOG_LEVEL', LOG_LEVELS),
    logFormat: oneOf('LOG_FORMAT', LOG_FORMATS),
    providers: {
      smtpUrl: get('SMTP_URL'),
      smtpMaxConnections: wholeNumber('SMTP_MAX_CONNECTIONS', 5, 1, 100),
      smtpMaxMessages: wholeNumber('SMTP_MAX_MESSAGES', 100, 1, 100_000),
      smtpDkim: dkimSettings(
        get('SMTP_DKIM_DOMAIN'),
        get('SMTP_DKIM_SELECTOR'),
        get('SMTP_DKIM_PRIVATE_KEY'),
        filePath('SMTP_DKIM_PRIVATE_KEY_FILE'),
      ),
      smtpBounceAddress: bounceAddress(get('SMTP_BOUNCE_ADDRESS')),
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
      smsSignatureSecret: get('SMS_SIGNATURE_SECRET'),
      smsSignatureMethod: oneOf('SMS_SIGNATURE_METHOD', VONAGE_SIGNATURE_METHODS) ?? 'md5hash',
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

/** The mailbox URL, refused at start when malformed (the error never repeats it: it holds a password). */
function checkedMailboxUrl(value: string | undefined): string | undefined {
  if (value !== undefined) parsePop3Url(value);
  return value;
}

/** A bare address (`bounces@example.com`): what MAIL FROM takes, no display name or brackets. */
function bounceAddress(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  if (!/^[^\s@<>"]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/.test(value)) {
    throw new UserError(
      `SMTP_BOUNCE_ADDRESS must be a bare email address such as bounces@example.com, not "${value}".`,
    );
  }
  return value;
}

const DKIM_KEY = 'SMTP_DKIM_PRIVATE_KEY (or SMTP_DKIM_PRIVATE_KEY_FILE)';
const SELECTOR = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const ASCII_DOMAIN = /^[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+$/;

/**
 * All three DKIM settings or none. The key is never quoted in an error, nor is the error of the crypto
 * library kept as a cause, since either could end up in a log.
 */
function dkimSettings(
  domainText: string | undefined,
  selector: string | undefined,
  keyText: string | undefined,
  keyFile: string | undefined,
): DkimSettings | undefined {
  if (keyText !== undefined && keyFile !== undefined) {
    throw new UserError('SMTP_DKIM_PRIVATE_KEY and SMTP_DKIM_PRIVATE_KEY_FILE are both set: keep one.');
  }
  const hasKey = keyText !== undefined || keyFile !== undefined;
  if (domainText === undefined && selector === undefined && !hasKey) return undefined;
  const missing = [
    domainText === undefined ? 'SMTP_DKIM_DOMAIN' : undefined,
    selector === undefined ? 'SMTP_DKIM_SELECTOR' : undefined,
    hasKey ? undefined : DKIM_KEY,
  ].filter((name) => name !== undefined);
  if (domainText === undefined || selector === undefined || !hasKey) {
    throw new UserError(
      `DKIM signing needs SMTP_DKIM_DOMAIN, SMTP_DKIM_SELECTOR and ${DKIM_KEY}; ${missing.join(', ')} ${missing.length === 1 ? 'is' : 'are'} not set. Set all three, or none to send unsigned.`,
    );
  }
  const domain = domainToASCII(domainText);
  if (!ASCII_DOMAIN.test(domain)) {
    throw new UserError(`SMTP_DKIM_DOMAIN must be a domain such as example.com, not "${domainText}".`);
  }
  if (!SELECTOR.test(selector)) {
    throw new UserError(
      `SMTP_DKIM_SELECTOR must be letters, digits, "-" or "_" in dot-separated labels (e.g. baton2026), not "${selector}".`,
    );
  }
  let pem: string;
  const source = keyFile === undefined ? 'SMTP_DKIM_PRIVATE_KEY' : `SMTP_DKIM_PRIVATE_KEY_FILE (${keyFile})`;
  if (keyFile !== undefined) {
    try {
      pem = readFileSync(keyFile, 'utf8');
    } catch (error) {
      throw unreadableFile(source, error);
    }
  } else {
    // An environment variable often holds the PEM on one line, its line breaks written \n.
    pem = (keyText ?? '').replace(/\\n/g, '\n');
  }
  let privateKey: KeyObject;
  try {
    privateKey = createPrivateKey(pem);
  } catch {
    throw new UserError(
      `${source} is not a readable private key: give an unencrypted PEM (-----BEGIN PRIVATE KEY----- or -----BEGIN RSA PRIVATE KEY-----), e.g. made with openssl genrsa -out dkim.pem 2048.`,
    );
  }
  if (privateKey.asymmetricKeyType !== 'rsa') {
    throw new UserError(
      `${source} is an ${privateKey.asymmetricKeyType ?? 'unknown'} key; email is signed with rsa-sha256, which needs an RSA key (openssl genrsa -out dkim.pem 2048).`,
    );
  }
  const bits = privateKey.asymmetricKeyDetails?.modulusLength ?? 0;
  if (bits < 1024) {
    throw new UserError(
      `${source} is a ${bits}-bit RSA key; receivers ignore signatures made with fewer than 1024 bits (RFC 8301). Use 2048.`,
    );
  }
  // A key whose numbers were damaged still parses; signing with it would fail at every message.
  const probe = Buffer.from('baton dkim probe');
  let signs: boolean;
  try {
    signs = verify('sha256', probe, createPublicKey(privateKey), sign('sha256', probe, privateKey));
  } catch {
    signs = false;
  }
  if (!signs) {
    throw new UserError(
      `${source} is damaged: a signature made with it does not verify. Export the key again.`,
    );
  }
  return { domain, selector, privateKey };
}
