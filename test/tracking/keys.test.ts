import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { UserError } from '../../src/errors.ts';
import { loadKeyring } from '../../src/tracking/keys.ts';

const SECRET = 'k'.repeat(40);
const OLD = 'o'.repeat(40);
const folders: string[] = [];
function folder(): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'baton-keys-'));
  folders.push(dir);
  return dir;
}
afterEach(() => {
  for (const dir of folders.splice(0)) rmSync(dir, { recursive: true, force: true });
});

type KeyConfig = Parameters<typeof loadKeyring>[0];
const base = (dataDir: string): KeyConfig => ({
  dataDir,
  databaseUrl: undefined,
  secret: undefined,
  previousSecrets: undefined,
});

describe('loadKeyring', () => {
  it('makes an embedded secret on first start, keeps it in <dataDir>/secret (0600) and reuses it', () => {
    const dataDir = path.join(folder(), 'nested', '.baton');
    const first = loadKeyring(base(dataDir));
    expect(first.current.id).toBe(0);
    expect(first.current.secret.length).toBeGreaterThanOrEqual(32);
    const file = path.join(dataDir, 'secret');
    expect(readFileSync(file, 'utf8').trim()).toBe(first.current.secret);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(loadKeyring(base(dataDir)).current.secret).toBe(first.current.secret);
  });

  it('prefers BATON_SECRET, with an optional key id', () => {
    const dataDir = folder();
    expect(loadKeyring({ ...base(dataDir), secret: SECRET }).current).toEqual({ id: 0, secret: SECRET });
    expect(loadKeyring({ ...base(dataDir), secret: `3:${SECRET}` }).current).toEqual({
      id: 3,
      secret: SECRET,
    });
  });

  it('requires BATON_SECRET on PostgreSQL', () => {
    expect(() => loadKeyring({ ...base(folder()), databaseUrl: 'postgres://x@localhost/baton' })).toThrow(
      /BATON_SECRET must be set/,
    );
  });

  it('reads retired keys from BATON_SECRET_PREVIOUS', () => {
    const keyring = loadKeyring({
      ...base(folder()),
      secret: `2:${SECRET}`,
      previousSecrets: `1:${OLD}:2025-06-01T00:00:00Z, 0:${'p'.repeat(32)}:2025-01-01`,
    });
    expect(keyring.previous).toEqual([
      { id: 1, secret: OLD, retiredAt: new Date('2025-06-01T00:00:00Z') },
      { id: 0, secret: 'p'.repeat(32), retiredAt: new Date('2025-01-01') },
    ]);
  });

  it('refuses weak, malformed or clashing keys without quoting the secret', () => {
    const cases: Array<[Partial<KeyConfig>, RegExp]> = [
      [{ secret: 'short-secret' }, /too short/],
      [{ secret: `300:${SECRET}` }, /0 to 255/],
      [{ secret: `1:${SECRET}`, previousSecrets: `1:${OLD}:2025-06-01` }, /id 1 twice/],
      [{ secret: SECRET, previousSecrets: `1:${OLD}` }, /id:secret:retiredAt/],
      [{ secret: SECRET, previousSecrets: `1:${OLD}:yesterday` }, /not a date/],
    ];
    for (const [config, message] of cases) {
      let caught: unknown;
      try {
        loadKeyring({ ...base(folder()), ...config });
      } catch (error) {
        caught = error;
      }
      expect(caught).toBeInstanceOf(UserError);
      expect((caught as Error).message).toMatch(message);
      expect((caught as Error).message).not.toContain(SECRET);
      expect((caught as Error).message).not.toContain(OLD);
    }
  });

  it('refuses a damaged secret file', () => {
    const dataDir = folder();
    writeFileSync(path.join(dataDir, 'secret'), 'x\n');
    expect(() => loadKeyring(base(dataDir))).toThrow(/does not hold a valid signing secret/);
  });

  it('reads BATON_SECRET and BATON_SECRET_PREVIOUS from the environment and baton.config.yaml', () => {
    const cwd = folder();
    const fromEnv = loadConfig({ BATON_SECRET: SECRET, BATON_SECRET_PREVIOUS: `1:${OLD}:2025-01-01` }, cwd);
    expect(fromEnv.secret).toBe(SECRET);
    expect(fromEnv.previousSecrets).toBe(`1:${OLD}:2025-01-01`);
    writeFileSync(path.join(cwd, 'baton.config.yaml'), `BATON_SECRET: ${SECRET}\n`);
    expect(loadConfig({}, cwd).secret).toBe(SECRET);
  });
});
