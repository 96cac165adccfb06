import { randomBytes } from 'node:crypto';
import { linkSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BatonConfig } from '../config.ts';
import { UserError } from '../errors.ts';
import type { Keyring, RetiredKey, SigningKey } from './tokens.ts';

/**
 * Where the signing keys come from: `BATON_SECRET` (optionally `id:secret`, id 0–255, default 0) and the
 * retired keys of `BATON_SECRET_PREVIOUS` (`id:secret:retiredAt,…`, retiredAt an ISO date). Without
 * BATON_SECRET an embedded install makes its own secret on first start and keeps it in
 * `<dataDir>/secret`; servers on PostgreSQL must be given one, because every server and worker has to sign
 * and verify with the same key. Error messages never quote a secret.
 */
export const MIN_SECRET_LENGTH = 32;
export const SECRET_FILE = 'secret';

export function loadKeyring(
  config: Pick<BatonConfig, 'dataDir' | 'databaseUrl' | 'secret' | 'previousSecrets'>,
): Keyring {
  const current =
    config.secret !== undefined
      ? parseCurrent(config.secret)
      : config.databaseUrl === undefined
        ? { id: 0, secret: embeddedSecret(config.dataDir) }
        : undefined;
  if (!current) {
    throw new UserError(
      'BATON_SECRET must be set when Baton runs on PostgreSQL: every server and worker signs and checks tracking links with it, so they must share it. Make one with `openssl rand -base64 48`.',
    );
  }
  const previous = config.previousSecrets === undefined ? [] : parsePrevious(config.previousSecrets);
  const ids = [current.id, ...previous.map((k) => k.id)];
  const repeated = ids.find((id, i) => ids.indexOf(id) !== i);
  if (repeated !== undefined) {
    throw new UserError(
      `BATON_SECRET and BATON_SECRET_PREVIOUS use the key id ${repeated} twice; give each key its own id.`,
    );
  }
  return { current, previous };
}

function parseCurrent(text: string): SigningKey {
  const match = /^(\d{1,3}):(.*)$/s.exec(text);
  const key = match ? { id: Number(match[1]), secret: match[2]! } : { id: 0, secret: text };
  checkKey(key, 'BATON_SECRET');
  return key;
}

function parsePrevious(text: string): RetiredKey[] {
  return text.split(',').map((entry, i) => {
    const where = `BATON_SECRET_PREVIOUS (entry ${i + 1})`;
    // The date is last and contains colons itself (2025-06-01T00:00:00Z): split on the first two only.
    const match = /^\s*(\d{1,3}):([^:]*):(.+?)\s*$/s.exec(entry);
    if (!match) throw new UserError(`${where} must be id:secret:retiredAt (e.g. 1:…:2025-06-01T00:00:00Z).`);
    const retiredAt = new Date(match[3]!);
    if (Number.isNaN(retiredAt.getTime())) {
      throw new UserError(`${where}: "${match[3]}" is not a date (use ISO 8601, e.g. 2025-06-01T00:00:00Z).`);
    }
    const key = { id: Number(match[1]), secret: match[2]!, retiredAt };
    checkKey(key, where);
    return key;
  });
}

function checkKey(key: SigningKey, where: string): void {
  if (key.id > 255) throw new UserError(`${where}: the key id must be a whole number from 0 to 255.`);
  if (key.secret.length < MIN_SECRET_LENGTH) {
    throw new UserError(
      `${where}: the secret is too short (at least ${MIN_SECRET_LENGTH} characters; make one with \`openssl rand -base64 48\`).`,
    );
  }
  if (/[:,\s]/.test(key.secret)) {
    throw new UserError(`${where}: the secret must not contain ':', ',' or spaces.`);
  }
}

/**
 * The embedded install's own secret, made once. It is written to a temporary file and hard-linked into
 * place, so that two processes starting together (`baton start` and a CLI command) never read a half-written
 * file and agree on one secret: the second link fails and that process reads the first one's.
 */
function embeddedSecret(dataDir: string): string {
  const file = path.join(dataDir, SECRET_FILE);
  const existing = readSecretFile(file);
  if (existing !== undefined) return existing;
  mkdirSync(dataDir, { recursive: true });
  const temporary = `${file}.${process.pid}.${randomBytes(6).toString('hex')}`;
  writeFileSync(temporary, `${randomBytes(48).toString('base64url')}\n`, { mode: 0o600 });
  try {
    linkSync(temporary, file);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
  } finally {
    unlinkSync(temporary);
  }
  return readSecretFile(file)!;
}

function readSecretFile(file: string): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8').trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new UserError(`Cannot read the signing secret ${file}: ${(error as Error).message}`, {
      cause: error,
    });
  }
  if (text.length < MIN_SECRET_LENGTH || /[:,\s]/.test(text)) {
    throw new UserError(
      `${file} does not hold a valid signing secret; delete it to make a new one (links already sent stop working) or set BATON_SECRET.`,
    );
  }
  return text;
}
