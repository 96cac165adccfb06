import { parseArgs } from 'node:util';
import { sql, type RawBuilder } from 'kysely';
import { loadDemo } from '../src/data/demo/load-demo.ts';
import type { Database } from '../src/db/database.ts';
import { onEachDatabase } from './databases.ts';
import { countRule } from '../src/rules/rule-service.ts';
import { sqlParam } from '../src/rules/sql-values.ts';

/**
 * bench/rules: count queries of realistic rules on the demo workspace (1M profiles, ~3M purchases by
 * default), on SQLite and PostgreSQL, each against a hand-written SQL query that counts the same rows,
 * run in the same process. Both are timed warm (best of several runs) and must give the same count.
 */
const AS_OF = new Date('2026-11-01T00:00:00Z');
const NOW = AS_OF.getTime();
const DAY = 86_400_000;

interface Case {
  name: string;
  rule: unknown;
  /** The same count, as a person would write it for this database. */
  handWritten: (db: Database) => RawBuilder<{ n: unknown }>;
}

const since = (days: number, db: Database) => sqlParam(db.kind, NOW - days * DAY, 'datetime');
const yes = (db: Database) => (db.kind === 'postgres' ? sql`true` : sql`1`);

const CASES: Case[] = [
  {
    name: 'filters (country, tier, opt-in)',
    rule: {
      and: [
        { field: 'country', op: 'in', value: ['IT', 'FR', 'DE'] },
        { field: 'loyalty', op: 'in', value: ['gold', 'platinum'] },
        { field: 'opted_in_email', op: 'eq', value: true },
      ],
    },
    handWritten: (db) => sql`SELECT count(*) AS n FROM ${db.dialect.dataTableRef('profiles')}
      WHERE country IN ('IT', 'FR', 'DE') AND loyalty IN ('gold', 'platinum') AND opted_in_email = ${yes(db)}`,
  },
  {
    name: 'exists purchase over 100',
    rule: { exists: 'purchases', where: { field: 'amount', op: 'gt', value: 100 } },
    handWritten: (db) => sql`SELECT count(*) AS n FROM ${db.dialect.dataTableRef('profiles')} p
      WHERE EXISTS (SELECT 1 FROM ${db.dialect.dataTableRef('purchases')} x WHERE x.profile_id = p.id AND x.amount > 100)`,
  },
  {
    name: '90-day purchase sum >= 300',
    rule: {
      aggregate: 'sum',
      of: 'purchases.amount',
      where: { field: 'purchased_at', op: 'gte', value: { expr: 'DaysAgo(90)' } },
      op: 'gte',
      value: 300,
    },
    // Counting profiles (not purchase groups, which could name profiles that do not exist).
    handWritten: (db) => sql`SELECT count(*) AS n FROM ${db.dialect.dataTableRef('profiles')} p
      WHERE p.id IN (SELECT profile_id FROM ${db.dialect.dataTableRef('purchases')}
        WHERE purchased_at >= ${since(90, db)} GROUP BY profile_id HAVING sum(amount) >= 300)`,
  },
  {
    name: 'except: opted in minus bought in 30 days',
    rule: {
      except: [
        { field: 'opted_in_email', op: 'eq', value: true },
        { exists: 'purchases', where: { field: 'purchased_at', op: 'gte', value: { expr: 'DaysAgo(30)' } } },
      ],
    },
    handWritten: (db) => sql`SELECT count(*) AS n FROM ${db.dialect.dataTableRef('profiles')} p
      WHERE p.opted_in_email = ${yes(db)} AND NOT EXISTS (
        SELECT 1 FROM ${db.dialect.dataTableRef('purchases')} x WHERE x.profile_id = p.id AND x.purchased_at >= ${since(30, db)})`,
  },
  {
    name: 'link field + date expression',
    rule: {
      and: [
        { field: 'store.region', op: 'ne', value: 'North' },
        { expr: 'Year(birth_date)', op: 'lt', value: 1990 },
      ],
    },
    handWritten: (db) => sql`SELECT count(*) AS n FROM ${db.dialect.dataTableRef('profiles')} p
      LEFT JOIN ${db.dialect.dataTableRef('stores')} s ON s.id = p.store_id
      WHERE (s.region <> 'North' OR s.region IS NULL) AND ${
        db.kind === 'postgres'
          ? sql`EXTRACT(YEAR FROM p.birth_date)`
          : sql`CAST(strftime('%Y', p.birth_date) AS INTEGER)`
      } < 1990`,
  },
];

async function best<T>(runs: number, work: () => Promise<T>): Promise<{ ms: number; value: T }> {
  let ms = Infinity;
  let value: T | undefined;
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    value = await work();
    ms = Math.min(ms, performance.now() - start);
  }
  return { ms, value: value! };
}

async function benchDatabase(
  label: string,
  database: Database,
  profiles: number,
  runs: number,
): Promise<void> {
  const loaded = await loadDemo(database, { profiles, asOf: AS_OF, force: true });
  process.stdout.write(
    `${label}: demo workspace ${Object.entries(loaded.rows)
      .map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`)
      .join(', ')} (loaded in ${(loaded.durationMs / 1000).toFixed(1)} s)\n`,
  );
  for (const c of CASES) {
    const rule = await best(runs, () =>
      countRule(database, { dimension: 'profiles', rule: c.rule, now: NOW }),
    );
    const hand = await best(runs, async () =>
      Number((await c.handWritten(database).execute(database.db)).rows[0]?.n),
    );
    const same =
      rule.value === hand.value ? '' : `  COUNTS DIFFER: rule ${rule.value}, hand-written ${hand.value}`;
    process.stdout.write(
      `  ${c.name.padEnd(42)} ${rule.value.toLocaleString('en-US').padStart(9)} rows  rule ${rule.ms.toFixed(0).padStart(6)} ms  hand-written ${hand.ms
        .toFixed(0)
        .padStart(6)} ms  ratio ${(rule.ms / hand.ms).toFixed(2)}× (target ≤ 1.3×)${same}\n`,
    );
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      profiles: { type: 'string', default: '1000000' },
      runs: { type: 'string', default: '3' },
      only: { type: 'string' },
    },
  });
  const profiles = Number(values.profiles);
  const runs = Number(values.runs);
  process.stdout.write(
    `bench/rules: count queries, best of ${runs} warm runs, now = ${AS_OF.toISOString()}\n`,
  );
  await onEachDatabase('rules', values.only, (label, database) =>
    benchDatabase(label, database, profiles, runs),
  );
}
