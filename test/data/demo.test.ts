import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parseDate } from '../../src/data/cell-values.ts';
import {
  demoTables,
  formatEpochDay,
  type DemoOptions,
  type DemoTable,
} from '../../src/data/demo/generate.ts';
import { Random, seedKey, weightedTable } from '../../src/data/demo/random.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { findTable, type CellValue, type ColumnDef } from '../../src/schema/types.ts';

const schema = parseSchemaText(
  readFileSync(new URL('../../examples/retail/baton.yaml', import.meta.url), 'utf8'),
);
const asOf = new Date('2026-03-15T10:30:00Z');
const asOfMs = asOf.getTime();
const DAY = 86_400_000;
/** A deliberately plain check: what a campaign's address validation would at least reject. */
const WELL_FORMED_EMAIL = /^[^@\s]+@[^@\s]+\.[^@\s]+$/;
const PHONE_PREFIX: Record<string, string> = {
  IT: '+393',
  FR: '+33',
  DE: '+491',
  ES: '+34',
  GB: '+447',
  US: '+1',
  NL: '+316',
  PT: '+3519',
};

function byName(tables: DemoTable[], name: DemoTable['table']): DemoTable {
  const table = tables.find((t) => t.table === name);
  if (!table) throw new Error(`no ${name} table`);
  return table;
}

function collect(table: DemoTable): CellValue[][] {
  return [...table.rows()];
}

function hashOf(tables: DemoTable[]): string {
  const hash = createHash('sha256');
  for (const table of tables) {
    hash.update(`${table.table}\n`);
    for (const row of table.rows()) hash.update(`${JSON.stringify(row)}\n`);
  }
  return hash.digest('hex');
}

function yearsBefore(years: number): Date {
  const d = new Date(asOfMs);
  d.setUTCFullYear(d.getUTCFullYear() - years);
  return d;
}

/** Column index by name, so assertions read like the schema. */
function columnIndex(table: DemoTable): (name: string) => number {
  return (name) => {
    const i = table.columns.indexOf(name);
    if (i < 0) throw new Error(`${table.table} has no column ${name}`);
    return i;
  };
}

function fraction(count: number, total: number): number {
  return count / total;
}

// One 20,000-profile demo shared by the data-quality tests: large enough for the rates to be meaningful.
const options20k: DemoOptions = { profiles: 20_000, seed: 'baton-demo', asOf };
const demo = demoTables(options20k);
const data = {
  stores: collect(byName(demo, 'stores')),
  products: collect(byName(demo, 'products')),
  profiles: collect(byName(demo, 'profiles')),
  purchases: collect(byName(demo, 'purchases')),
};
const P = columnIndex(byName(demo, 'profiles'));
const B = columnIndex(byName(demo, 'purchases'));

describe('demo data: shape', () => {
  it('lists the tables in load order with the schema columns in schema order', () => {
    expect(demo.map((t) => t.table)).toEqual(['stores', 'products', 'profiles', 'purchases']);
    for (const table of demo) {
      const def = findTable(schema, table.table);
      expect(def, table.table).toBeDefined();
      expect(table.columns).toEqual(def!.columns.map((c) => c.name));
    }
  });

  it('yields rows as long as the column list, exactly expectedRows of them', () => {
    for (const table of demo) {
      const rows = data[table.table];
      expect(rows.length, table.table).toBe(table.expectedRows);
      expect(rows.filter((row) => row.length !== table.columns.length).length, table.table).toBe(0);
    }
    expect(byName(demo, 'profiles').expectedRows).toBe(20_000);
    expect(data.stores.length).toBeGreaterThanOrEqual(40);
    expect(data.products.length).toBe(200);
  });

  it('gives every cell a value valid for its column type', () => {
    const nullable = new Set(['profiles.email', 'profiles.phone', 'profiles.push_token']);
    for (const table of demo) {
      const columns = findTable(schema, table.table)!.columns;
      const failures: string[] = [];
      const check = (column: ColumnDef, value: CellValue): boolean => {
        if (value === null) return nullable.has(`${table.table}.${column.name}`);
        switch (column.type) {
          case 'integer':
            return typeof value === 'number' && Number.isSafeInteger(value);
          case 'string':
            return typeof value === 'string' && (!column.values || column.values.includes(value));
          case 'decimal':
            return typeof value === 'string' && /^\d+\.\d{2}$/.test(value);
          case 'boolean':
            return typeof value === 'boolean';
          case 'date':
            return typeof value === 'string' && parseDate(value).ok;
          case 'datetime':
            return typeof value === 'number' && Number.isSafeInteger(value) && value <= asOfMs;
        }
      };
      for (const row of data[table.table]) {
        columns.forEach((column, i) => {
          if (failures.length < 5 && !check(column, row[i]!))
            failures.push(`${column.name}=${String(row[i])}`);
        });
      }
      expect(failures, table.table).toEqual([]);
    }
  });

  it('streams: the first rows of a 100,000,000-profile demo come at once', () => {
    const huge = demoTables({ profiles: 100_000_000, seed: 'baton-demo', asOf });
    const started = performance.now();
    for (const name of ['profiles', 'purchases'] as const) {
      const iterator = byName(huge, name).rows()[Symbol.iterator]();
      expect(iterator.next().done).toBe(false);
    }
    expect(performance.now() - started).toBeLessThan(1000);
  });

  it('rejects options it cannot honour', () => {
    expect(() => demoTables({ profiles: -1, seed: 'x', asOf })).toThrow(/whole number/);
    expect(() => demoTables({ profiles: 1.5, seed: 'x', asOf })).toThrow(/whole number/);
    expect(() => demoTables({ profiles: 10, seed: 'x', asOf: new Date('nope') })).toThrow(/valid date/);
    const empty = demoTables({ profiles: 0, seed: 'x', asOf });
    expect(empty.map((t) => [...t.rows()].length)).toEqual([data.stores.length, 200, 0, 0]);
    expect(empty.map((t) => t.expectedRows)).toEqual([data.stores.length, 200, 0, 0]);
  });
});

describe('demo data: determinism', () => {
  const small: DemoOptions = { profiles: 2_000, seed: 'determinism', asOf };

  it('gives identical rows for the same seed and asOf, across calls and across rows() calls', () => {
    const tables = demoTables(small);
    const first = hashOf(tables);
    expect(hashOf(tables)).toBe(first);
    expect(hashOf(demoTables({ ...small, asOf: new Date(asOfMs) }))).toBe(first);
  });

  it('gives different rows for a different seed or asOf', () => {
    const base = hashOf(demoTables(small));
    expect(hashOf(demoTables({ ...small, seed: 'determinism2' }))).not.toBe(base);
    expect(hashOf(demoTables({ ...small, asOf: new Date(asOfMs + DAY) }))).not.toBe(base);
    const [a] = collect(byName(demoTables(small), 'profiles'));
    const [b] = collect(byName(demoTables({ ...small, seed: 'other' }), 'profiles'));
    expect(a).not.toEqual(b);
  });

  it('keeps a profile the same whatever the number of profiles', () => {
    const fewer = collect(byName(demoTables({ ...small, profiles: 500 }), 'profiles'));
    const more = collect(byName(demoTables(small), 'profiles')).slice(0, 500);
    expect(fewer).toEqual(more);
  });
});

describe('demo data: referential integrity', () => {
  it('has unique ids, purchase ids running 1..N', () => {
    for (const name of ['stores', 'products', 'profiles'] as const) {
      const ids = data[name].map((r) => r[0]);
      expect(new Set(ids).size, name).toBe(ids.length);
    }
    expect(data.purchases.findIndex((row, i) => row[0] !== i + 1)).toBe(-1);
    expect(new Set(data.products.map((r) => r[1])).size).toBe(data.products.length);
  });

  it('references only existing profiles, products and stores', () => {
    const storeIds = new Set(data.stores.map((r) => r[0]));
    const productIds = new Set(data.products.map((r) => r[0]));
    const profileIds = new Set(data.profiles.map((r) => r[0]));
    expect(data.profiles.filter((r) => !storeIds.has(r[P('store_id')]))).toEqual([]);
    const dangling = data.purchases.filter(
      (r) =>
        !profileIds.has(r[B('profile_id')]) ||
        !productIds.has(r[B('product_id')]) ||
        !storeIds.has(r[B('store_id')]),
    );
    expect(dangling).toEqual([]);
  });

  it('places customers in cities of their country, mostly attached to a store of that country', () => {
    const countryOfCity = new Map<string, string>();
    const storeCountry = new Map(data.stores.map((r) => [r[0], r[3]]));
    let sameCountry = 0;
    const inconsistent: string[] = [];
    for (const row of data.profiles) {
      const country = row[P('country')] as string;
      const city = row[P('city')] as string;
      if ((countryOfCity.get(city) ?? country) !== country) inconsistent.push(`${city} in ${country}`);
      countryOfCity.set(city, country);
      if (storeCountry.get(row[P('store_id')]) === country) sameCountry++;
    }
    expect(inconsistent).toEqual([]);
    expect(new Set(countryOfCity.values())).toEqual(
      new Set(['IT', 'FR', 'DE', 'ES', 'GB', 'US', 'NL', 'PT']),
    );
    expect(fraction(sameCountry, data.profiles.length)).toBeGreaterThan(0.95);
    expect(new Set(data.stores.map((r) => r[3])).size).toBeGreaterThanOrEqual(6);
  });
});

describe('demo data: content', () => {
  it('uses only the enum values of the schema, all of them, bronze most and platinum least', () => {
    const profiles = findTable(schema, 'profiles')!;
    for (const name of ['gender', 'loyalty']) {
      const allowed = profiles.columns.find((c) => c.name === name)!.values!;
      const seen = new Map<string, number>();
      for (const row of data.profiles)
        seen.set(row[P(name)] as string, (seen.get(row[P(name)] as string) ?? 0) + 1);
      expect([...seen.keys()].sort(), name).toEqual([...allowed].sort());
    }
    const tiers = new Map<string, number>();
    for (const row of data.profiles)
      tiers.set(row[P('loyalty')] as string, (tiers.get(row[P('loyalty')] as string) ?? 0) + 1);
    const order = [...tiers.entries()].sort((a, b) => b[1] - a[1]).map(([t]) => t);
    expect(order).toEqual(['bronze', 'silver', 'gold', 'platinum']);
  });

  it('draws names from several languages, accents included, and addresses from a mix of domains', () => {
    const names = data.profiles.map((r) => `${String(r[P('first_name')])} ${String(r[P('last_name')])}`);
    expect(names.filter((n) => /[^\x20-\x7e]/.test(n)).length).toBeGreaterThan(1000);
    const domains = new Map<string, number>();
    const odd: string[] = [];
    for (const row of data.profiles) {
      const email = row[P('email')];
      if (typeof email === 'string' && WELL_FORMED_EMAIL.test(email)) {
        const domain = email.slice(email.indexOf('@') + 1);
        domains.set(domain, (domains.get(domain) ?? 0) + 1);
        if (!/^[a-z._]+\d+@[a-z0-9.-]+$/.test(email)) odd.push(email);
      }
    }
    expect(odd.slice(0, 5)).toEqual([]);
    for (const d of ['gmail.com.example', 'outlook.com.example', 'yahoo.com.example', 'icloud.com.example'])
      expect(domains.get(d), d).toBeGreaterThan(500);
    // No demo address may ever reach a real inbox: every domain is under the reserved .example TLD.
    expect([...domains.keys()].filter((d) => !d.endsWith('.example'))).toEqual([]);
    expect(domains.size).toBeGreaterThan(10);
    expect((domains.get('gmail.com.example') ?? 0) / data.profiles.length).toBeLessThan(0.5);
  });

  it('has the deliberate imperfections at their rates', () => {
    const n = data.profiles.length;
    let missing = 0;
    let malformed = 0;
    const addresses = new Map<string, number>();
    for (const row of data.profiles) {
      const email = row[P('email')];
      if (email === null) missing++;
      else if (!WELL_FORMED_EMAIL.test(email as string)) malformed++;
      else addresses.set(email as string, (addresses.get(email as string) ?? 0) + 1);
    }
    const sharing = [...addresses.values()].filter((c) => c > 1);
    expect(Math.max(...sharing)).toBe(2);
    expect(fraction(missing, n)).toBeGreaterThan(0.015);
    expect(fraction(missing, n)).toBeLessThan(0.025);
    expect(fraction(malformed, n)).toBeGreaterThan(0.003);
    expect(fraction(malformed, n)).toBeLessThan(0.007);
    expect(fraction(sharing.length * 2, n)).toBeGreaterThan(0.007);
    expect(fraction(sharing.length * 2, n)).toBeLessThan(0.013);

    const phones = data.profiles.map((r) => r[P('phone')]);
    expect(fraction(phones.filter((p) => p === null).length, n)).toBeGreaterThan(0.09);
    expect(fraction(phones.filter((p) => p === null).length, n)).toBeLessThan(0.11);
    const tokens = data.profiles.map((r) => r[P('push_token')]).filter((t) => t !== null);
    expect(fraction(tokens.length, n)).toBeGreaterThan(0.38);
    expect(fraction(tokens.length, n)).toBeLessThan(0.42);
    for (const token of tokens) expect(token).toMatch(/^[0-9a-f]{64}$/);
    expect(new Set(tokens).size).toBe(tokens.length);
  });

  it('writes phone numbers in E.164 for the customer country', () => {
    const wrong = data.profiles.filter((row) => {
      const phone = row[P('phone')];
      if (phone === null) return false;
      return (
        !/^\+[1-9]\d{9,13}$/.test(phone as string) ||
        !(phone as string).startsWith(PHONE_PREFIX[row[P('country')] as string]!)
      );
    });
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('sets opt-ins at their rates, push only with a token', () => {
    const n = data.profiles.length;
    const share = (column: string) => fraction(data.profiles.filter((r) => r[P(column)] === true).length, n);
    expect(share('opted_in_email')).toBeGreaterThan(0.83);
    expect(share('opted_in_email')).toBeLessThan(0.87);
    expect(share('opted_in_sms')).toBeGreaterThan(0.58);
    expect(share('opted_in_sms')).toBeLessThan(0.62);
    expect(
      data.profiles.filter((r) => r[P('opted_in_push')] === true && r[P('push_token')] === null),
    ).toEqual([]);
    expect(share('opted_in_push')).toBeGreaterThan(0.25);
  });

  it('keeps birth dates 18 to 85 years and sign-ups up to 5 years before asOf', () => {
    const youngest = yearsBefore(18).toISOString().slice(0, 10);
    const oldest = yearsBefore(86).toISOString().slice(0, 10);
    const joinedFrom = yearsBefore(5).getTime();
    const wrong = data.profiles.filter((row) => {
      const birth = row[P('birth_date')] as string;
      const created = row[P('created_at')] as number;
      return birth > youngest || birth <= oldest || created < joinedFrom || created > asOfMs;
    });
    expect(wrong.slice(0, 5)).toEqual([]);
  });

  it('prices purchases exactly and dates them after sign-up, within two years, busier lately', () => {
    const price = new Map(data.products.map((r) => [r[0], r[4] as string]));
    const created = new Map(data.profiles.map((r) => [r[0], r[P('created_at')] as number]));
    const from = yearsBefore(2).getTime();
    let recent = 0;
    const wrong: CellValue[][] = [];
    for (const row of data.purchases) {
      const quantity = row[B('quantity')] as number;
      const cents = Math.round(Number(price.get(row[B('product_id')])) * 100) * quantity;
      const amount = `${Math.floor(cents / 100)}.${String(cents % 100).padStart(2, '0')}`;
      const at = row[B('purchased_at')] as number;
      const ok = quantity >= 1 && quantity <= 5 && row[B('amount')] === amount;
      if (!ok || at < created.get(row[B('profile_id')])! || at < from || at > asOfMs) wrong.push(row);
      if (at > asOfMs - 90 * DAY) recent++;
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    // An even spread would put 90/730 = 12% of purchases in the last 90 days.
    expect(fraction(recent, data.purchases.length)).toBeGreaterThan(0.25);
  });

  it('gives about 3 purchases per profile: none for ~15%, a long tail up to 20', () => {
    const perProfile = new Map<CellValue, number>();
    for (const row of data.purchases)
      perProfile.set(row[B('profile_id')]!, (perProfile.get(row[B('profile_id')]!) ?? 0) + 1);
    const n = data.profiles.length;
    expect(data.purchases.length / n).toBeGreaterThan(2.7);
    expect(data.purchases.length / n).toBeLessThan(3.3);
    expect(fraction(n - perProfile.size, n)).toBeGreaterThan(0.12);
    expect(fraction(n - perProfile.size, n)).toBeLessThan(0.18);
    const counts = [...perProfile.values()];
    expect(Math.max(...counts)).toBe(20);
    expect(counts.filter((c) => c >= 10).length).toBeGreaterThan(n * 0.02);
  });
});

describe('demo random numbers', () => {
  it('repeats a sequence for a seed and keeps independent streams apart', () => {
    const draw = (r: Random) => Array.from({ length: 8 }, () => r.next());
    expect(draw(new Random('s'))).toEqual(draw(new Random('s')));
    expect(draw(new Random('s'))).not.toEqual(draw(new Random('t')));
    expect(draw(new Random(seedKey('s'), 1, 7))).toEqual(draw(new Random('s').reset(seedKey('s'), 1, 7)));
    expect(draw(new Random(seedKey('s'), 1, 7))).not.toEqual(draw(new Random(seedKey('s'), 1, 8)));
    expect(draw(new Random(seedKey('s'), 1, 7))).not.toEqual(draw(new Random(seedKey('s'), 2, 7)));
  });

  it('keeps helpers within their bounds and weights', () => {
    const r = new Random(42);
    const seen = new Set<number>();
    for (let i = 0; i < 10_000; i++) {
      const v = r.int(3, 7);
      expect(v >= 3 && v <= 7 && Number.isInteger(v)).toBe(true);
      seen.add(v);
      const f = r.float();
      expect(f >= 0 && f < 1).toBe(true);
    }
    expect([...seen].sort()).toEqual([3, 4, 5, 6, 7]);
    const pairs = [
      ['never', 0],
      ['rare', 1],
      ['common', 9],
    ] as const;
    const table = weightedTable(pairs);
    const counts = { never: 0, rare: 0, common: 0 };
    for (let i = 0; i < 10_000; i++) {
      counts[r.weighted(pairs)]++;
      counts[r.draw(table)]++;
    }
    expect(counts.never).toBe(0);
    expect(counts.rare / 20_000).toBeGreaterThan(0.08);
    expect(counts.rare / 20_000).toBeLessThan(0.12);
    expect(['a', 'b']).toContain(r.pick(['a', 'b']));
    expect(() => r.pick([])).toThrow();
  });

  it('never uses Math.random', () => {
    for (const file of ['random.ts', 'generate.ts', 'catalogue.ts']) {
      const text = readFileSync(new URL(`../../src/data/demo/${file}`, import.meta.url), 'utf8');
      expect(/Math\.random\s*\(/.test(text), file).toBe(false);
    }
  });

  it('formats epoch days as the calendar does', () => {
    const wrong: string[] = [];
    // Every day from 1900 to 2099, leap years and the 1900/2000 century rules included.
    for (let day = -25_567; day <= 47_481; day++) {
      const expected = new Date(day * DAY).toISOString().slice(0, 10);
      if (formatEpochDay(day) !== expected) wrong.push(expected);
    }
    expect(wrong).toEqual([]);
  });
});
