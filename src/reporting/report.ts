import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../db/database.ts';
import { NotFoundError, UserError } from '../errors.ts';
import { epochMs, MINUTE_MS } from './rollups.ts';

/**
 * A campaign's report (docs/reports.md): per channel activity, per run (execution) and in total, the
 * ledger's outcomes and the tracking events' figures. The ledger is read as it is; the events through
 * their roll-ups, or — `source: 'events'` — counted straight from `events`, which gives the same numbers
 * (the tests hold the two to it) and is the benchmark's baseline.
 */

export interface ReportFilters {
  /** One run (execution) of the campaign. */
  run?: string;
  /** One channel activity. */
  activity?: string;
  /** ISO 8601; the range is [from, to), both rounded down to the minute. */
  from?: string;
  to?: string;
  /** Count machine events in the main figures too (the UI's "human only" switch off). */
  includeMachine?: boolean;
  source?: 'rollups' | 'events';
}

export interface MachineFigures {
  opens: number;
  uniqueOpens: number;
  clicks: number;
  uniqueClicks: number;
  unsubscribes: number;
  complaints: number;
}

/** What the ledger says of a set of messages: the part of a report that is counted from `messages`. */
export interface LedgerFigures {
  targeted: number;
  excluded: Record<string, number>;
  sent: number;
  delivered: number;
  bounced: number;
  hardBounces: number;
  softBounces: number;
  bounceReasons: Record<string, number>;
  failed: number;
  errors: Record<string, number>;
  uncertain: number;
  pending: number;
}

export interface Figures extends LedgerFigures {
  opens: number;
  uniqueOpens: number;
  estimatedOpens: number;
  estimatedUniqueOpens: number;
  clicks: number;
  uniqueClicks: number;
  unsubscribes: number;
  complaints: number;
  machine: MachineFigures;
  /** What the open and click rates divide by: delivered when receipts came back, sent otherwise. */
  rateBase: 'delivered' | 'sent';
  deliveryRate: number | null;
  openRate: number | null;
  estimatedOpenRate: number | null;
  clickThroughRate: number | null;
  clickToOpenRate: number | null;
  bounceRate: number | null;
}

export interface RunReport extends Figures {
  run: string;
  startedAt: string;
  status: string;
  version: number | null;
}

export interface ActivityReport extends Figures {
  activity: string;
  channel: string;
}

export interface CampaignReport {
  campaign: { id: string; name: string };
  filters: {
    run: string | null;
    activity: string | null;
    from: string | null;
    to: string | null;
    /** Whether the main figures leave machine events out (they always are in `machine`). */
    humanOnly: boolean;
  };
  runs: RunReport[];
  activities: ActivityReport[];
  totals: Figures;
}

/** Additive counts: figures of several runs or activities are the sums of theirs. */
export interface Counts extends LedgerFigures {
  /** Messages that left the queue for a provider: sent, bounced, failed or uncertain. */
  attempted: number;
  /** Per event type: [human events, human uniques, machine events, machine uniques, uniques of either]. */
  events: Record<string, [number, number, number, number, number]>;
}

export const emptyCounts = (): Counts => ({
  targeted: 0,
  excluded: {},
  sent: 0,
  delivered: 0,
  bounced: 0,
  hardBounces: 0,
  softBounces: 0,
  bounceReasons: {},
  failed: 0,
  errors: {},
  uncertain: 0,
  pending: 0,
  attempted: 0,
  events: {},
});

const UNKNOWN_REASON = 'unknown';
const bump = (to: Record<string, number>, key: string, n: number) => {
  if (n !== 0) to[key] = (to[key] ?? 0) + n;
};
const ratio = (a: number, b: number) => (b > 0 ? a / b : null);

/** The ledger's and the events' aggregates of one run and activity. */
export interface LedgerRow {
  run_id: string;
  activity: string;
  channel: string;
  status: string;
  reason: string | null;
  bounce: string | null;
  targeted: number;
  in_state: number;
  sent: number;
  delivered: number;
}

export interface EventRow {
  run_id: string;
  activity: string;
  channel: string;
  type: string;
  human: number;
  events: number;
  uniques: number;
  first_any: number;
}

export function addLedger(to: Counts, row: LedgerRow): void {
  to.targeted += row.targeted;
  to.sent += row.sent;
  to.delivered += row.delivered;
  const n = row.in_state;
  const reason = row.reason ?? UNKNOWN_REASON;
  switch (row.status) {
    case 'excluded':
      bump(to.excluded, reason, n);
      return;
    case 'queued':
    case 'sending':
      to.pending += n;
      return;
    case 'bounced':
      to.bounced += n;
      if (row.bounce === 'hard') to.hardBounces += n;
      else to.softBounces += n;
      bump(to.bounceReasons, reason, n);
      break;
    case 'failed':
      to.failed += n;
      bump(to.errors, reason, n);
      break;
    case 'uncertain':
      to.uncertain += n;
      break;
  }
  to.attempted += n;
}

export function addEvents(to: Counts, row: EventRow): void {
  const slot = (to.events[row.type] ??= [0, 0, 0, 0, 0]);
  if (row.human) {
    slot[0] += row.events;
    slot[1] += row.uniques;
  } else {
    slot[2] += row.events;
    slot[3] += row.uniques;
  }
  slot[4] += row.first_any;
}

export function addCounts(to: Counts, from: Counts): void {
  for (const key of ['targeted', 'sent', 'delivered', 'bounced', 'hardBounces', 'softBounces'] as const)
    to[key] += from[key];
  for (const key of ['failed', 'uncertain', 'pending', 'attempted'] as const) to[key] += from[key];
  for (const key of ['excluded', 'bounceReasons', 'errors'] as const)
    for (const [reason, n] of Object.entries(from[key])) bump(to[key], reason, n);
  for (const [type, slot] of Object.entries(from.events)) {
    const [a, b, c, d, e] = to.events[type] ?? [0, 0, 0, 0, 0];
    to.events[type] = [a + slot[0], b + slot[1], c + slot[2], d + slot[3], e + slot[4]];
  }
}

/** The figures of additive counts: rates and estimates are computed from the sums, never summed. */
export function figuresOf(counts: Counts, includeMachine = false): Figures {
  const of = (type: string) => counts.events[type] ?? [0, 0, 0, 0, 0];
  const main = (type: string) => {
    const [events, uniques, machineEvents, , any] = of(type);
    return includeMachine ? { events: events + machineEvents, uniques: any } : { events, uniques };
  };
  const opens = main('open');
  const clicks = main('click');
  const rateBase = counts.delivered > 0 ? 'delivered' : 'sent';
  const base = counts[rateBase];
  // Opens hidden by privacy proxies: messages whose only opens are machine ones are assumed opened at
  // the rate of the messages no proxy stands in front of (docs/reports.md "Estimated opens").
  const [humanOpens, humanOpeners, , machineOpeners, anyOpeners] = of('open');
  const unproxied = base - machineOpeners;
  const openedUnproxied = anyOpeners - machineOpeners;
  const machineOnly = anyOpeners - humanOpeners;
  const estimatedUniqueOpens =
    unproxied > 0
      ? Math.min(
          Math.max(base, humanOpeners),
          humanOpeners + Math.round((machineOnly * openedUnproxied) / unproxied),
        )
      : humanOpeners;
  const estimatedOpens =
    humanOpeners > 0 ? Math.round((humanOpens * estimatedUniqueOpens) / humanOpeners) : estimatedUniqueOpens;
  return {
    targeted: counts.targeted,
    excluded: counts.excluded,
    sent: counts.sent,
    delivered: counts.delivered,
    bounced: counts.bounced,
    hardBounces: counts.hardBounces,
    softBounces: counts.softBounces,
    bounceReasons: counts.bounceReasons,
    failed: counts.failed,
    errors: counts.errors,
    uncertain: counts.uncertain,
    pending: counts.pending,
    opens: opens.events,
    uniqueOpens: opens.uniques,
    estimatedOpens,
    estimatedUniqueOpens,
    clicks: clicks.events,
    uniqueClicks: clicks.uniques,
    unsubscribes: main('unsubscribe').uniques,
    complaints: main('complaint').uniques,
    machine: {
      opens: of('open')[2],
      uniqueOpens: of('open')[3],
      clicks: of('click')[2],
      uniqueClicks: of('click')[3],
      unsubscribes: of('unsubscribe')[3],
      complaints: of('complaint')[3],
    },
    rateBase,
    deliveryRate: ratio(counts.delivered, counts.sent),
    openRate: ratio(opens.uniques, base),
    estimatedOpenRate: ratio(estimatedUniqueOpens, base),
    clickThroughRate: ratio(clicks.uniques, base),
    clickToOpenRate: ratio(clicks.uniques, opens.uniques),
    bounceRate: ratio(counts.bounced, counts.attempted),
  };
}

/** A report's time range in epoch ms, whole minutes; a missing bound is open. */
export interface Range {
  fromMs?: number;
  toMs?: number;
}

function parseTime(value: string, name: string): number {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new UserError(`${name} "${value}" is not a date or date-time (ISO 8601).`);
  return Math.floor(ms / MINUTE_MS) * MINUTE_MS;
}

export function rangeOf(filters: Pick<ReportFilters, 'from' | 'to'>): Range | undefined {
  if (filters.from === undefined && filters.to === undefined) return undefined;
  const range = {
    fromMs: filters.from === undefined ? undefined : parseTime(filters.from, 'from'),
    toMs: filters.to === undefined ? undefined : parseTime(filters.to, 'to'),
  };
  if (range.fromMs !== undefined && range.toMs !== undefined && range.toMs <= range.fromMs)
    throw new UserError('"to" must be at least a minute after "from".');
  return range;
}

/** `value` within the range, its bounds given as `as` makes them (epoch ms, minutes, ISO 8601). */
export function inRange(
  value: RawBuilder<unknown>,
  range: Range,
  as: (ms: number) => number | string = (ms) => ms,
): RawBuilder<unknown> {
  const bounds = [
    ...(range.fromMs === undefined ? [] : [sql`${value} >= ${as(range.fromMs)}`]),
    ...(range.toMs === undefined ? [] : [sql`${value} < ${as(range.toMs)}`]),
  ];
  return sql`(${sql.join(bounds, sql` AND `)})`;
}

export const toMinutes = (ms: number) => ms / MINUTE_MS;

const isoOf = (ms: number) => new Date(ms).toISOString();

/** The campaign (404 when unknown) and its live runs (test runs write no messages). */
export async function campaignRuns(
  database: Database,
  campaignId: string,
  run: string | undefined,
): Promise<{ campaign: { id: string; name: string }; runs: Omit<RunReport, keyof Figures>[] }> {
  const campaign = await database.db
    .selectFrom('campaigns')
    .select(['id', 'name'])
    .where('id', '=', campaignId)
    .executeTakeFirst();
  if (!campaign) throw new NotFoundError(`No campaign ${campaignId}.`);
  let query = database.db
    .selectFrom('runs')
    .select(['id', 'started_at', 'status', 'version'])
    .where('campaign_id', '=', campaignId)
    .where('mode', '=', 'live');
  if (run !== undefined) query = query.where('id', '=', run);
  const runs = await query.orderBy('started_at').orderBy('id').execute();
  if (run !== undefined && runs.length === 0)
    throw new NotFoundError(`Campaign ${campaignId} has no live run ${run}.`);
  return {
    campaign,
    runs: runs.map((r) => ({ run: r.id, startedAt: r.started_at, status: r.status, version: r.version })),
  };
}

/** `messages` of the campaign's runs, narrowed to a run and an activity. */
export function ledgerScope(campaignId: string, filters: ReportFilters): RawBuilder<unknown> {
  return sql.join(
    [
      sql`m.run_id IN (SELECT id FROM runs WHERE campaign_id = ${campaignId} AND mode = 'live')`,
      ...(filters.run === undefined ? [] : [sql`m.run_id = ${filters.run}`]),
      ...(filters.activity === undefined ? [] : [sql`m.activity = ${filters.activity}`]),
    ],
    sql` AND `,
  );
}

/**
 * The ledger's counts. In a range, each counts what happened in it: targeted by the time the message
 * was queued, sent and delivered by theirs, the other outcomes by the time the message reached them.
 */
export async function ledgerRows(
  database: Database,
  campaignId: string,
  filters: ReportFilters,
  range: Range | undefined,
  /** A further grouping of the rows (a recipient domain), returned as `g`. */
  group?: RawBuilder<unknown>,
): Promise<Array<LedgerRow & { g: string }>> {
  const within = (column: string) =>
    range
      ? sql`SUM(CASE WHEN ${inRange(sql.ref(column), range, isoOf)} THEN 1 ELSE 0 END)`
      : sql`COUNT(${sql.ref(column)})`;
  // Grouped in the order of the messages_for_reports index, which holds every column read here when no
  // range is asked (queued_at and updated_at are never null: COUNT(*) counts them).
  const { rows } = await sql<LedgerRow & { g: string }>`SELECT m.run_id, m.activity, m.status, m.channel,
      m.reason, m.bounce, ${group ?? sql`''`} AS g,
      ${range ? within('m.queued_at') : sql`COUNT(*)`} AS targeted,
      ${range ? within('m.updated_at') : sql`COUNT(*)`} AS in_state,
      ${within('m.sent_at')} AS sent, ${within('m.delivered_at')} AS delivered
    FROM messages AS m WHERE ${ledgerScope(campaignId, filters)}
    GROUP BY m.run_id, m.activity, m.status, m.channel, m.reason, m.bounce${group ? sql`, ${group}` : sql``}`.execute(
    database.db,
  );
  return rows.map((r) => ({
    ...r,
    targeted: Number(r.targeted),
    in_state: Number(r.in_state),
    sent: Number(r.sent),
    delivered: Number(r.delivered),
  }));
}

export function eventScope(campaignId: string, filters: ReportFilters): RawBuilder<unknown> {
  return sql.join(
    [
      sql`campaign_id = ${campaignId}`,
      ...(filters.run === undefined ? [] : [sql`run_id = ${filters.run}`]),
      ...(filters.activity === undefined ? [] : [sql`activity = ${filters.activity}`]),
    ],
    sql` AND `,
  );
}

/** Sums of the roll-ups: one row per run, activity, type and human flag. */
async function rolledEventRows(
  database: Database,
  campaignId: string,
  filters: ReportFilters,
  range: Range | undefined,
): Promise<EventRow[]> {
  const inTime = range ? sql` AND ${inRange(sql.ref('minute'), range, toMinutes)}` : sql``;
  const { rows } = await sql<EventRow>`SELECT run_id, activity, channel, type, human,
      SUM(events) AS events, SUM(uniques) AS uniques, SUM(first_any) AS first_any
    FROM report_minutes WHERE ${eventScope(campaignId, filters)}${inTime}
    GROUP BY run_id, activity, channel, type, human`.execute(database.db);
  return rows;
}

/**
 * The same sums counted from `events`: events in the range, and messages whose first event of a kind
 * (over all time) falls in the range.
 */
async function countedEventRows(
  database: Database,
  campaignId: string,
  filters: ReportFilters,
  range: Range | undefined,
): Promise<EventRow[]> {
  const ms = epochMs(database.kind, sql.ref('at'));
  const within = (value: RawBuilder<unknown>) =>
    range ? inRange(value, range) : sql`(${value} IS NOT NULL)`;
  const flag = sql`CASE WHEN human THEN 1 ELSE 0 END`;
  const counted = await sql<EventRow>`SELECT run_id, activity, channel, type, ${flag} AS human,
      COUNT(*) AS events, 0 AS uniques, 0 AS first_any
    FROM events WHERE ${eventScope(campaignId, filters)}${range ? sql` AND ${within(ms)}` : sql``}
    GROUP BY run_id, activity, channel, type, ${flag}`.execute(database.db);
  const h = sql.ref('f.h');
  const m = sql.ref('f.m');
  const anyHuman = sql`(${m} IS NULL OR (${h} IS NOT NULL AND ${h} <= ${m}))`;
  const one = (condition: RawBuilder<unknown>) => sql`SUM(CASE WHEN ${condition} THEN 1 ELSE 0 END)`;
  const firsts = await sql<{
    run_id: string;
    activity: string;
    channel: string;
    type: string;
    human_uniques: number;
    machine_uniques: number;
    any_human: number;
    any_machine: number;
  }>`SELECT f.run_id, f.activity, f.channel, f.type,
      ${one(within(h))} AS human_uniques, ${one(within(m))} AS machine_uniques,
      ${one(sql`${anyHuman} AND ${within(h)}`)} AS any_human,
      ${one(sql`NOT ${anyHuman} AND ${within(m)}`)} AS any_machine
    FROM (
      SELECT message_id, type, MIN(run_id) AS run_id, MIN(activity) AS activity, MIN(channel) AS channel,
        MIN(CASE WHEN human THEN ${ms} END) AS h, MIN(CASE WHEN human THEN NULL ELSE ${ms} END) AS m
      FROM events WHERE ${eventScope(campaignId, filters)} GROUP BY message_id, type
    ) AS f
    GROUP BY f.run_id, f.activity, f.channel, f.type`.execute(database.db);
  return [
    ...counted.rows,
    ...firsts.rows.flatMap((r) => [
      { ...r, human: 1, events: 0, uniques: r.human_uniques, first_any: r.any_human },
      { ...r, human: 0, events: 0, uniques: r.machine_uniques, first_any: r.any_machine },
    ]),
  ];
}

export async function campaignReport(
  database: Database,
  campaignId: string,
  filters: ReportFilters = {},
): Promise<CampaignReport> {
  const range = rangeOf(filters);
  const { campaign, runs } = await campaignRuns(database, campaignId, filters.run);
  const [ledger, events] = await Promise.all([
    ledgerRows(database, campaignId, filters, range),
    (filters.source === 'events' ? countedEventRows : rolledEventRows)(database, campaignId, filters, range),
  ]);
  const byRun = new Map<string, Counts>();
  const byActivity = new Map<string, { channel: string; counts: Counts }>();
  const countsOf = (row: { run_id: string; activity: string; channel: string }) => {
    const run = byRun.get(row.run_id) ?? emptyCounts();
    byRun.set(row.run_id, run);
    const activity = byActivity.get(row.activity) ?? { channel: row.channel, counts: emptyCounts() };
    byActivity.set(row.activity, activity);
    return [run, activity.counts];
  };
  for (const row of ledger) for (const counts of countsOf(row)) addLedger(counts, row);
  for (const row of events) {
    const normalised = {
      ...row,
      human: Number(row.human),
      events: Number(row.events),
      uniques: Number(row.uniques),
      first_any: Number(row.first_any),
    };
    for (const counts of countsOf(row)) addEvents(counts, normalised);
  }
  const totals = emptyCounts();
  for (const { counts } of byActivity.values()) addCounts(totals, counts);
  const machine = filters.includeMachine === true;
  return {
    campaign,
    filters: {
      run: filters.run ?? null,
      activity: filters.activity ?? null,
      from: range?.fromMs === undefined ? null : isoOf(range.fromMs),
      to: range?.toMs === undefined ? null : isoOf(range.toMs),
      humanOnly: !machine,
    },
    runs: runs.map((run) => ({ ...run, ...figuresOf(byRun.get(run.run) ?? emptyCounts(), machine) })),
    activities: [...byActivity.entries()]
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([activity, { channel, counts }]) => ({ activity, channel, ...figuresOf(counts, machine) })),
    totals: figuresOf(totals, machine),
  };
}
