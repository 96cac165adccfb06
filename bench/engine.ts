import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import { sql, type RawBuilder } from 'kysely';
import { saveCampaign } from '../src/campaigns/store.ts';
import { loadDemo } from '../src/data/demo/load-demo.ts';
import type { Database } from '../src/db/database.ts';
import { onEachDatabase } from './databases.ts';
import { startRun } from '../src/engine/run-campaign.ts';
import { runStatus } from '../src/engine/run-inspection.ts';
import { sqlParam } from '../src/rules/sql-values.ts';
import { buildApp } from '../src/server/app.ts';

/**
 * bench/engine: the reference campaign on the demo workspace (1M profiles, ~3M purchases by default) —
 * an audience built on a purchase aggregate, minus a second audience, deduplicated on email, enriched
 * with a 90-day spend, split in three segments and a complement — run as a test run, against the same
 * pipeline written by hand in SQL and run in the same process (the counts must be equal). Then the same
 * test run started over HTTP (it executes in a worker thread) while /healthz is called every 20 ms, to
 * show the server stays responsive: p50 / p99 latency.
 */
const AS_OF = new Date('2026-11-01T00:00:00Z');
const NOW = AS_OF.getTime();
const DAY = 86_400_000;

const CAMPAIGN = {
  id: 'bench-reference',
  name: 'Reference campaign',
  activities: {
    buyers: {
      type: 'build-audience',
      dimension: 'profiles',
      rule: {
        aggregate: 'sum',
        of: 'purchases.amount',
        where: { field: 'purchased_at', op: 'gte', value: { expr: 'DaysAgo(365)' } },
        op: 'gte',
        value: 200,
      },
    },
    recent: {
      type: 'build-audience',
      dimension: 'profiles',
      rule: {
        exists: 'purchases',
        where: { field: 'purchased_at', op: 'gte', value: { expr: 'DaysAgo(7)' } },
      },
    },
    target: { type: 'combine', mode: 'exclusion', inputs: ['buyers', 'recent'], primary: 'buyers' },
    unique: {
      type: 'deduplicate',
      input: 'target',
      fields: ['email'],
      method: 'expression',
      expression: 'created_at',
      order: 'max',
    },
    spend: {
      type: 'enrich',
      input: 'unique',
      collections: [
        {
          name: 'recent_purchases',
          link: 'purchases',
          filter: { field: 'purchased_at', op: 'gte', value: { expr: 'DaysAgo(90)' } },
          aggregates: [{ name: 'spent_90d', fn: 'sum', of: 'amount' }],
        },
      ],
    },
    tiers: {
      type: 'split',
      input: 'spend',
      segments: [
        { label: 'gold', filter: { field: 'loyalty', op: 'in', value: ['gold', 'platinum'] } },
        { label: 'silver', filter: { field: 'loyalty', op: 'eq', value: 'silver' } },
        { label: 'sample', limit: { percent: 10 } },
      ],
      complement: true,
    },
  },
};

/** The same pipeline as a person would write it: one statement per step, each into a table. */
async function handWritten(db: Database): Promise<Record<string, number>> {
  const t = (name: string) =>
    db.kind === 'postgres' ? sql.id('work', `hand_${name}`) : sql.id(`work_hand_${name}`);
  const data = (name: string) => db.dialect.dataTableRef(name);
  const since = (days: number) => sqlParam(db.kind, NOW - days * DAY, 'datetime');
  const steps: Array<[string, string, RawBuilder<unknown>]> = [
    [
      'buyers',
      'id bigint',
      sql`SELECT p.id FROM ${data('profiles')} p WHERE p.id IN (SELECT profile_id FROM ${data('purchases')} WHERE purchased_at >= ${since(365)} GROUP BY profile_id HAVING sum(amount) >= 200)`,
    ],
    [
      'recent',
      'id bigint',
      sql`SELECT p.id FROM ${data('profiles')} p WHERE EXISTS (SELECT 1 FROM ${data('purchases')} x WHERE x.profile_id = p.id AND x.purchased_at >= ${since(7)})`,
    ],
    ['target', 'id bigint', sql`SELECT id FROM ${t('buyers')} EXCEPT SELECT id FROM ${t('recent')}`],
    [
      'unique',
      'id bigint',
      sql`SELECT id FROM (SELECT w.id, CASE WHEN p.email IS NULL THEN 1 ELSE row_number() OVER (PARTITION BY p.email ORDER BY p.created_at DESC, p.id) END AS n FROM ${t('target')} w JOIN ${data('profiles')} p ON p.id = w.id) d WHERE n <= 1`,
    ],
    [
      'spend',
      `id bigint, spent_90d ${db.kind === 'postgres' ? 'numeric' : 'REAL'}`,
      sql`SELECT u.id, (SELECT coalesce(sum(x.amount), 0) FROM ${data('purchases')} x WHERE x.profile_id = u.id AND x.purchased_at >= ${since(90)}) FROM ${t('unique')} u`,
    ],
    [
      'gold',
      'id bigint, spent_90d numeric',
      sql`SELECT s.id, s.spent_90d FROM ${t('spend')} s JOIN ${data('profiles')} p ON p.id = s.id WHERE p.loyalty IN ('gold', 'platinum')`,
    ],
    [
      'silver',
      'id bigint, spent_90d numeric',
      sql`SELECT s.id, s.spent_90d FROM ${t('spend')} s JOIN ${data('profiles')} p ON p.id = s.id WHERE p.loyalty = 'silver' AND NOT EXISTS (SELECT 1 FROM ${t('gold')} g WHERE g.id = s.id)`,
    ],
  ];
  const counts: Record<string, number> = {};
  const count = async (name: string) =>
    Number((await sql<{ n: unknown }>`SELECT count(*) AS n FROM ${t(name)}`.execute(db.db)).rows[0]?.n);
  for (const [name, columns, select] of steps) {
    await sql`DROP TABLE IF EXISTS ${t(name)}`.execute(db.db);
    await sql`CREATE TABLE ${t(name)} (${sql.raw(columns)}, PRIMARY KEY (id))`.execute(db.db);
    await sql`INSERT INTO ${t(name)} ${select}`.execute(db.db);
    counts[name] = await count(name);
  }
  const rest = sql`FROM ${t('spend')} s WHERE NOT EXISTS (SELECT 1 FROM ${t('gold')} g WHERE g.id = s.id) AND NOT EXISTS (SELECT 1 FROM ${t('silver')} v WHERE v.id = s.id)`;
  const remaining = Number(
    (await sql<{ n: unknown }>`SELECT count(*) AS n ${rest}`.execute(db.db)).rows[0]?.n,
  );
  const sample = Math.floor((remaining * 10) / 100 + 0.5);
  for (const [name, select] of [
    ['sample', sql`SELECT s.id, s.spent_90d ${rest} ORDER BY s.id LIMIT ${sql.lit(sample)}`],
    [
      'complement',
      sql`SELECT s.id, s.spent_90d ${rest} AND NOT EXISTS (SELECT 1 FROM ${t('sample')} m WHERE m.id = s.id)`,
    ],
  ] as const) {
    await sql`DROP TABLE IF EXISTS ${t(name)}`.execute(db.db);
    await sql`CREATE TABLE ${t(name)} (id bigint, spent_90d numeric, PRIMARY KEY (id))`.execute(db.db);
    await sql`INSERT INTO ${t(name)} ${select}`.execute(db.db);
    counts[name] = await count(name);
  }
  return counts;
}

function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
}

async function benchDatabase(
  label: string,
  database: Database,
  config: { dataDir: string; databaseUrl: string | undefined },
  profiles: number,
): Promise<void> {
  const loaded = await loadDemo(database, { profiles, asOf: AS_OF, force: true });
  process.stdout.write(
    `${label}: profiles ${loaded.rows.profiles!.toLocaleString('en-US')}, purchases ${loaded.rows.purchases!.toLocaleString('en-US')} (loaded in ${(loaded.durationMs / 1000).toFixed(1)} s)\n`,
  );
  await saveCampaign(database, CAMPAIGN);

  let start = performance.now();
  const status = await (await startRun(database, CAMPAIGN.id, { now: NOW })).finished;
  const engineMs = performance.now() - start;
  if (status.status !== 'done') throw new Error(`the test run failed: ${status.error}`);
  start = performance.now();
  const hand = await handWritten(database);
  const handMs = performance.now() - start;
  const expected: Record<string, number> = {
    buyers: hand.buyers!,
    recent: hand.recent!,
    target: hand.target!,
    unique: hand.unique!,
    spend: hand.spend!,
    'tiers.gold': hand.gold!,
    'tiers.silver': hand.silver!,
    'tiers.sample': hand.sample!,
    'tiers.complement': hand.complement!,
  };
  const differ = Object.entries(expected).filter(([k, n]) => status.counts[k] !== n);
  process.stdout.write(
    `  test run ${(engineMs / 1000).toFixed(2)} s, hand-written pipeline ${(handMs / 1000).toFixed(2)} s: ratio ${(engineMs / handMs).toFixed(2)}× (target ≤ 1.3×)\n` +
      `  counts: ${Object.entries(status.counts)
        .map(([k, n]) => `${k} ${n.toLocaleString('en-US')}`)
        .join(', ')}\n` +
      (differ.length
        ? `  COUNTS DIFFER from the hand-written pipeline: ${JSON.stringify(differ)} vs ${JSON.stringify(expected)}\n`
        : '  counts equal the hand-written pipeline\n'),
  );

  // The same run started over HTTP (a worker thread) while /healthz is polled.
  const app = await buildApp(database, config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  try {
    const started = (await (
      await fetch(`${base}/api/campaigns/${CAMPAIGN.id}/test-runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ now: AS_OF.toISOString() }),
      })
    ).json()) as { run: string };
    const latencies: number[] = [];
    const began = performance.now();
    for (;;) {
      const t0 = performance.now();
      await (await fetch(`${base}/healthz`)).text();
      latencies.push(performance.now() - t0);
      if ((await runStatus(database, started.run)).status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    process.stdout.write(
      `  over HTTP (worker thread): ${((performance.now() - began) / 1000).toFixed(2)} s; /healthz during the run: ${latencies.length} calls, p50 ${percentile(latencies, 50).toFixed(1)} ms, p99 ${percentile(latencies, 99).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms\n`,
    );
  } finally {
    await app.close();
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: { profiles: { type: 'string', default: '1000000' }, only: { type: 'string' } },
  });
  const profiles = Number(values.profiles);
  process.stdout.write(`bench/engine: the reference campaign as a test run, now = ${AS_OF.toISOString()}\n`);
  await onEachDatabase('engine', values.only, (label, database, config) =>
    benchDatabase(label, database, config, profiles),
  );
}
