import { isDeepStrictEqual, parseArgs } from 'node:util';
import { sql } from 'kysely';
import type { Database } from '../src/db/database.ts';
import { campaignReport } from '../src/reporting/report.ts';
import { rebuildRollups } from '../src/reporting/rollups.ts';
import { onEachDatabase } from './databases.ts';

/**
 * bench/report: the report of one campaign with 1,000,000 messages and 10,000,000 tracking events (opens,
 * clicks, unsubscribes, complaints; one in seven a machine's) over a week: the report read from the
 * roll-ups (median of 5, target < 300 ms), against the same report counted straight from `events`
 * (the lower bound a report without roll-ups would have) — and the two must be equal.
 */
const CAMPAIGN = 'bench-report';
const RUN = 'bench-run';
const T0_S = Date.parse('2026-03-01T10:00:00Z') / 1000;
const WEEK_S = 7 * 86_400;
const TARGET_MS = 300;
const CHUNK = 1_000_000;

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

async function time<T>(work: () => Promise<T>): Promise<[T, number]> {
  const start = process.hrtime.bigint();
  const result = await work();
  return [result, ms(start)];
}

/** Rows `from` to `to` - 1 of a generated series, as `n(i)`, on either database. */
function series(database: Database, from: number, to: number) {
  return database.kind === 'postgres'
    ? sql`generate_series(${sql.lit(from)}::bigint, ${sql.lit(to - 1)}::bigint) AS n(i)`
    : sql`(WITH RECURSIVE s(i) AS (SELECT ${sql.lit(from)} UNION ALL SELECT i + 1 FROM s WHERE i < ${sql.lit(to - 1)}) SELECT i FROM s) AS n`;
}

/** An ISO 8601 time `seconds` after T0, as each database stores it. */
function timeAt(database: Database, seconds: ReturnType<typeof sql>) {
  return database.kind === 'postgres'
    ? sql`to_timestamp(${sql.lit(T0_S)} + ${seconds})`
    : sql`strftime('%Y-%m-%dT%H:%M:%fZ', ${sql.lit(T0_S)} + ${seconds}, 'unixepoch')`;
}

async function load(database: Database, messages: number, events: number): Promise<void> {
  const at = timeAt(database, sql`0`);
  await sql`INSERT INTO campaigns (id, name, description, tags, status, document, created_at, updated_at)
    VALUES (${CAMPAIGN}, 'Report benchmark', NULL, '[]', 'live', '{}', ${at}, ${at})`.execute(database.db);
  await sql`INSERT INTO runs (id, campaign_id, mode, trigger, status, document, now_ms, started_at)
    VALUES (${RUN}, ${CAMPAIGN}, 'live', 'manual', 'done', '{}', 0, ${at})`.execute(database.db);
  // 5% excluded, 3% bounced (a third hard), 1% failed, the rest sent; four in five of those delivered.
  const bucket = sql`(n.i % 100)`;
  await sql`INSERT INTO messages (id, run_id, activity, campaign_id, channel, recipient, address, position,
      status, reason, bounce, attempts, next_attempt_at, queued_at, sent_at, delivered_at, updated_at)
    SELECT 'm' || n.i, ${RUN}, 'mail', ${CAMPAIGN}, 'email', '' || n.i, 'u' || n.i || '@d' || (n.i % 40) || '.test', n.i,
      CASE WHEN ${bucket} < 5 THEN 'excluded' WHEN ${bucket} < 8 THEN 'bounced' WHEN ${bucket} < 9 THEN 'failed' ELSE 'sent' END,
      CASE WHEN ${bucket} < 3 THEN 'unsubscribed' WHEN ${bucket} < 5 THEN 'no-address' WHEN ${bucket} < 6 THEN 'user unknown'
        WHEN ${bucket} < 8 THEN 'mailbox full' WHEN ${bucket} < 9 THEN 'timeout' END,
      CASE WHEN ${bucket} = 5 THEN 'hard' WHEN ${bucket} BETWEEN 6 AND 7 THEN 'soft' END, 1, 0,
      ${at}, CASE WHEN ${bucket} >= 9 THEN ${timeAt(database, sql`(n.i % 3600)`)} END,
      CASE WHEN ${bucket} >= 20 THEN ${timeAt(database, sql`(n.i % 3600 + 60)`)} END, ${at}
    FROM ${series(database, 0, messages)}`.execute(database.db);
  // Bulk loading: the events' indexes are built once, after the rows.
  const indexes = ['events_of_message', 'events_of_campaign', 'events_of_recipient'];
  for (const index of indexes) await sql`DROP INDEX ${sql.id(index)}`.execute(database.db);
  const kind = sql`(n.i % 10)`;
  for (let from = 0; from < events; from += CHUNK) {
    const to = Math.min(events, from + CHUNK);
    // Events fall on the sent messages (every message id ending in 09..99 of each hundred).
    const message = sql`'m' || ((n.i * 7919) % ${sql.lit(Math.floor(messages / 100))} * 100 + 9 + (n.i % 91))`;
    await sql`INSERT INTO events (id, message_id, recipient, campaign_id, activity, run_id, channel, type, link, url,
        human, machine_reason, at)
      SELECT 'e' || n.i, ${message}, '', ${CAMPAIGN}, 'mail', ${RUN}, 'email',
        CASE WHEN ${kind} < 6 THEN 'open' WHEN ${kind} < 9 THEN 'click'
          WHEN n.i % 20 = 9 THEN 'unsubscribe' ELSE 'complaint' END,
        CASE WHEN ${kind} BETWEEN 6 AND 8 THEN n.i % 3 END,
        CASE WHEN ${kind} BETWEEN 6 AND 8 THEN 'https://shop.example/' || (n.i % 3) END,
        (n.i % 7 <> 0), CASE WHEN n.i % 7 = 0 THEN 'apple-mpp' END,
        ${timeAt(database, sql`(3600 + (n.i * 37) % ${sql.lit(WEEK_S)})`)}
      FROM ${series(database, from, to)}`.execute(database.db);
    process.stdout.write(`  ${to.toLocaleString('en-US')} events\r`);
  }
  await sql`CREATE INDEX events_of_message ON events (message_id, type)`.execute(database.db);
  await sql`CREATE INDEX events_of_campaign ON events (campaign_id, type, at)`.execute(database.db);
  await sql`CREATE INDEX events_of_recipient ON events (recipient, type, at)`.execute(database.db);
  // As autovacuum leaves a bulk-loaded table on PostgreSQL: its pages visible, so indexes can answer alone.
  await sql.raw(database.kind === 'postgres' ? 'VACUUM ANALYZE' : 'ANALYZE').execute(database.db);
}

async function benchDatabase(label: string, database: Database, messages: number, events: number) {
  process.stdout.write(`${label}:\n`);
  const [, loadMs] = await time(() => load(database, messages, events));
  process.stdout.write(
    `  loaded ${messages.toLocaleString('en-US')} messages and ${events.toLocaleString('en-US')} events in ${(loadMs / 1000).toFixed(1)} s\n`,
  );
  const [, rebuildMs] = await time(() => rebuildRollups(database, CAMPAIGN));
  const minutes = await database.db
    .selectFrom('report_minutes')
    .select((eb) => eb.fn.countAll().as('n'))
    .executeTakeFirstOrThrow();
  process.stdout.write(
    `  roll-ups rebuilt from the events in ${(rebuildMs / 1000).toFixed(1)} s: ${Number(minutes.n).toLocaleString('en-US')} minute rows\n`,
  );
  const runs: number[] = [];
  // A first report warms the caches; the five after it are timed.
  let report = await campaignReport(database, CAMPAIGN);
  for (let i = 0; i < 5; i++) {
    const [result, took] = await time(() => campaignReport(database, CAMPAIGN));
    report = result;
    runs.push(took);
  }
  const median = runs.sort((a, b) => a - b)[2]!;
  const [recount, recountMs] = await time(() => campaignReport(database, CAMPAIGN, { source: 'events' }));
  const t = report.totals;
  process.stdout.write(
    `  report from the roll-ups: ${median.toFixed(0)} ms median of 5 (target < ${TARGET_MS} ms: ${median < TARGET_MS ? 'met' : 'MISSED'})\n` +
      `  report counted from the events: ${recountMs.toFixed(0)} ms (${(recountMs / median).toFixed(0)}x the roll-ups)\n` +
      `  equal: ${isDeepStrictEqual(recount, report) ? 'yes' : 'NO'}; targeted ${t.targeted}, sent ${t.sent}, ` +
      `opens ${t.opens} (unique ${t.uniqueOpens}, estimated ${t.estimatedUniqueOpens}), clicks ${t.clicks} ` +
      `(unique ${t.uniqueClicks}), machine opens ${t.machine.opens}\n`,
  );
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      messages: { type: 'string', default: '1000000' },
      events: { type: 'string', default: '10000000' },
      only: { type: 'string' },
    },
  });
  const messages = Number(values.messages);
  const events = Number(values.events);
  process.stdout.write(`bench/report: one campaign's report over ${events.toLocaleString('en-US')} events\n`);
  await onEachDatabase('report', values.only, (label, database) =>
    benchDatabase(label, database, messages, events),
  );
}
