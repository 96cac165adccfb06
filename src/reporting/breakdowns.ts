import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../db/database.ts';
import {
  addCounts,
  addEvents,
  addLedger,
  campaignReport,
  campaignRuns,
  emptyCounts,
  eventScope,
  figuresOf,
  inRange,
  ledgerRows,
  ledgerScope,
  rangeOf,
  type Counts,
  type Range,
  toMinutes,
  type ReportFilters,
} from './report.ts';
import { epochMs, MINUTE_MS } from './rollups.ts';

/** A report's tables beside its figures (docs/reports.md "Breakdowns"). */
export const BREAKDOWNS = ['domain', 'link', 'hour', 'day', 'reason'] as const;
export type BreakdownKind = (typeof BREAKDOWNS)[number];

export interface DomainRow {
  domain: string;
  targeted: number;
  excluded: number;
  sent: number;
  delivered: number;
  bounced: number;
  failed: number;
  uniqueOpens: number;
  estimatedUniqueOpens: number;
  uniqueClicks: number;
  openRate: number | null;
  clickThroughRate: number | null;
}

export interface LinkRow {
  link: number | null;
  url: string | null;
  clicks: number;
  uniqueClicks: number;
  machineClicks: number;
}

export interface TimeRow {
  /** The hour's or (UTC) day's start, ISO 8601. */
  at: string;
  sent: number;
  delivered: number;
  bounced: number;
  opens: number;
  uniqueOpens: number;
  clicks: number;
  uniqueClicks: number;
  unsubscribes: number;
  complaints: number;
  machineOpens: number;
  machineClicks: number;
}

export interface ReasonRow {
  kind: 'excluded' | 'bounce' | 'error';
  reason: string;
  count: number;
  /** Of the messages of that kind. */
  share: number;
}

export type Breakdown =
  | { by: 'domain'; rows: DomainRow[] }
  | { by: 'link'; rows: LinkRow[] }
  | { by: 'hour' | 'day'; rows: TimeRow[] }
  | { by: 'reason'; rows: ReasonRow[] };

/** Rows beyond it are summed into one `(others)` row: a campaign may reach many thousands of domains. */
export const DEFAULT_DOMAINS = 20;

export async function reportBreakdown(
  database: Database,
  campaignId: string,
  by: BreakdownKind,
  filters: ReportFilters & { limit?: number } = {},
): Promise<Breakdown> {
  if (by === 'reason')
    return { by, rows: reasonRows((await campaignReport(database, campaignId, filters)).totals) };
  const range = rangeOf(filters);
  await campaignRuns(database, campaignId, filters.run);
  switch (by) {
    case 'domain':
      return { by, rows: await domainRows(database, campaignId, filters, range) };
    case 'link':
      return { by, rows: await linkRows(database, campaignId, filters, range) };
    case 'hour':
    case 'day':
      return { by, rows: await timeRows(database, campaignId, filters, range, by) };
  }
}

function reasonRows(totals: {
  excluded: Record<string, number>;
  bounceReasons: Record<string, number>;
  errors: Record<string, number>;
}): ReasonRow[] {
  const of = (kind: ReasonRow['kind'], counts: Record<string, number>) => {
    const all = Object.values(counts).reduce((a, b) => a + b, 0);
    return Object.entries(counts)
      .map(([reason, count]) => ({ kind, reason, count, share: count / all }))
      .sort((a, b) => b.count - a.count || (a.reason < b.reason ? -1 : 1));
  };
  return [
    ...of('excluded', totals.excluded),
    ...of('bounce', totals.bounceReasons),
    ...of('error', totals.errors),
  ];
}

/** The part of an email address after the @, lower-cased; other channels have none (''). */
function domainOf(database: Database, alias: string): RawBuilder<string> {
  const address = sql.ref(`${alias}.address`);
  const channel = sql.ref(`${alias}.channel`);
  const at = database.kind === 'sqlite' ? sql`instr(${address}, '@')` : sql`strpos(${address}, '@')`;
  return sql<string>`CASE WHEN ${channel} = 'email' AND ${at} > 0 THEN lower(substr(${address}, ${at} + 1)) ELSE '' END`;
}

async function domainRows(
  database: Database,
  campaignId: string,
  filters: ReportFilters & { limit?: number },
  range: Range | undefined,
): Promise<DomainRow[]> {
  const byDomain = new Map<string, Counts>();
  const countsOf = (domain: string) => {
    const counts = byDomain.get(domain) ?? emptyCounts();
    byDomain.set(domain, counts);
    return counts;
  };
  for (const row of await ledgerRows(database, campaignId, filters, range, domainOf(database, 'm')))
    addLedger(countsOf(row.g), row);
  // Unique opens and clicks from each message's first events, joined to its address.
  const within = (column: string) =>
    range ? inRange(sql.ref(column), range) : sql`(${sql.ref(column)} IS NOT NULL)`;
  const one = (condition: RawBuilder<unknown>) => sql`SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END)`;
  const anyHuman = sql`(f.machine_ms IS NULL OR (f.human_ms IS NOT NULL AND f.human_ms <= f.machine_ms))`;
  const domain = domainOf(database, 'm');
  const { rows } = await sql<{
    g: string;
    type: string;
    human_uniques: unknown;
    machine_uniques: unknown;
    any_uniques: unknown;
  }>`SELECT ${domain} AS g, f.type, ${one(within('f.human_ms'))} AS human_uniques,
      ${one(within('f.machine_ms'))} AS machine_uniques,
      ${one(sql`(${anyHuman} AND ${within('f.human_ms')}) OR (NOT ${anyHuman} AND ${within('f.machine_ms')})`)} AS any_uniques
    FROM report_firsts AS f JOIN messages AS m ON m.id = f.message_id
    WHERE f.campaign_id = ${campaignId} AND f.type IN ('open', 'click') AND ${ledgerScope(campaignId, filters)}
    GROUP BY ${domain}, f.type`.execute(database.db);
  for (const row of rows) {
    const counts = countsOf(row.g);
    const base = { run_id: '', activity: '', channel: '', type: row.type, events: 0 };
    addEvents(counts, {
      ...base,
      human: 1,
      uniques: Number(row.human_uniques),
      first_any: Number(row.any_uniques),
    });
    addEvents(counts, { ...base, human: 0, uniques: Number(row.machine_uniques), first_any: 0 });
  }
  const sorted = [...byDomain.entries()].sort(
    ([a, x], [b, y]) => y.targeted - x.targeted || (a < b ? -1 : a > b ? 1 : 0),
  );
  const limit = filters.limit ?? DEFAULT_DOMAINS;
  if (sorted.length > limit + 1) {
    const others = emptyCounts();
    for (const [, counts] of sorted.splice(limit)) addCounts(others, counts);
    sorted.push(['(others)', others]);
  }
  return sorted.map(([name, counts]) => {
    const f = figuresOf(counts);
    return {
      domain: name,
      targeted: f.targeted,
      excluded: Object.values(f.excluded).reduce((a, b) => a + b, 0),
      sent: f.sent,
      delivered: f.delivered,
      bounced: f.bounced,
      failed: f.failed,
      uniqueOpens: f.uniqueOpens,
      estimatedUniqueOpens: f.estimatedUniqueOpens,
      uniqueClicks: f.uniqueClicks,
      openRate: f.openRate,
      clickThroughRate: f.clickThroughRate,
    };
  });
}

async function linkRows(
  database: Database,
  campaignId: string,
  filters: ReportFilters,
  range: Range | undefined,
): Promise<LinkRow[]> {
  const ms = epochMs(database.kind, sql.ref('at'));
  const { rows } = await sql<Record<keyof LinkRow, unknown>>`SELECT link, url,
      SUM(CASE WHEN human THEN 1 ELSE 0 END) AS clicks,
      COUNT(DISTINCT CASE WHEN human THEN message_id END) AS "uniqueClicks",
      SUM(CASE WHEN human THEN 0 ELSE 1 END) AS "machineClicks"
    FROM events WHERE ${eventScope(campaignId, filters)} AND type = 'click'
      ${range ? sql`AND ${inRange(ms, range)}` : sql``}
    GROUP BY link, url`.execute(database.db);
  return rows
    .map((r) => ({
      link: r.link === null ? null : Number(r.link),
      url: r.url as string | null,
      clicks: Number(r.clicks),
      uniqueClicks: Number(r.uniqueClicks),
      machineClicks: Number(r.machineClicks),
    }))
    .sort((a, b) => b.clicks - a.clicks || (a.link ?? -1) - (b.link ?? -1));
}

const HOUR_MS = 3_600_000;
const DAY_MS = 86_400_000;

async function timeRows(
  database: Database,
  campaignId: string,
  filters: ReportFilters,
  range: Range | undefined,
  by: 'hour' | 'day',
): Promise<TimeRow[]> {
  const size = by === 'hour' ? HOUR_MS : DAY_MS;
  const buckets = new Map<number, TimeRow>();
  const rowOf = (bucket: number) => {
    const row = buckets.get(bucket) ?? {
      at: new Date(bucket * size).toISOString(),
      sent: 0,
      delivered: 0,
      bounced: 0,
      opens: 0,
      uniqueOpens: 0,
      clicks: 0,
      uniqueClicks: 0,
      unsubscribes: 0,
      complaints: 0,
      machineOpens: 0,
      machineClicks: 0,
    };
    buckets.set(bucket, row);
    return row;
  };
  // Literals: PostgreSQL matches the GROUP BY expression to the selected one by its text.
  const perBucket = sql.lit(size);
  const at = (column: string, kind: string, where: RawBuilder<unknown>) => {
    const ms = epochMs(database.kind, sql.ref(`m.${column}`));
    return sql`SELECT ${ms} / ${perBucket} AS b, ${sql.lit(kind)} AS kind, COUNT(*) AS n FROM messages AS m
      WHERE ${ledgerScope(campaignId, filters)} AND ${where}
        ${range ? sql`AND ${inRange(ms, range)}` : sql``}
      GROUP BY ${ms} / ${perBucket}`;
  };
  const ledger = await sql<{ b: unknown; kind: 'sent' | 'delivered' | 'bounced'; n: unknown }>`
    ${at('sent_at', 'sent', sql`m.sent_at IS NOT NULL`)}
    UNION ALL ${at('delivered_at', 'delivered', sql`m.delivered_at IS NOT NULL`)}
    UNION ALL ${at('updated_at', 'bounced', sql`m.status = 'bounced'`)}`.execute(database.db);
  for (const r of ledger.rows) rowOf(Number(r.b))[r.kind] += Number(r.n);
  const perMinutes = sql.lit(size / MINUTE_MS);
  const events = await sql<{ b: unknown; type: string; human: unknown; events: unknown; uniques: unknown }>`
    SELECT minute / ${perMinutes} AS b, type, human, SUM(events) AS events, SUM(uniques) AS uniques
    FROM report_minutes WHERE ${eventScope(campaignId, filters)}
      ${range ? sql`AND ${inRange(sql.ref('minute'), range, toMinutes)}` : sql``}
    GROUP BY minute / ${perMinutes}, type, human`.execute(database.db);
  for (const r of events.rows) {
    const row = rowOf(Number(r.b));
    const n = Number(r.events);
    const uniques = Number(r.uniques);
    const human = Number(r.human) === 1;
    if (r.type === 'open') {
      if (human) {
        row.opens += n;
        row.uniqueOpens += uniques;
      } else row.machineOpens += n;
    } else if (r.type === 'click') {
      if (human) {
        row.clicks += n;
        row.uniqueClicks += uniques;
      } else row.machineClicks += n;
    } else if (human && r.type === 'unsubscribe') row.unsubscribes += uniques;
    else if (human && r.type === 'complaint') row.complaints += uniques;
  }
  return [...buckets.entries()].sort(([a], [b]) => a - b).map(([, row]) => row);
}
