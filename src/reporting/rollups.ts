import type BetterSqlite3 from 'better-sqlite3';
import { sql, type CompiledQuery, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/database.ts';
import type { DatabaseKind } from '../db/dialect.ts';
import type { BatonTables } from '../db/tables.ts';

/**
 * The roll-ups reports read instead of the events (docs/reports.md "Roll-ups"):
 * - `report_firsts`: per message and event type, the time (epoch ms) of its first human and of its first
 *   machine event;
 * - `report_minutes`: per campaign, run, activity, channel, type, human flag and minute, the number of
 *   events, of messages whose first event of that type and flag is in that minute (`uniques`), and of
 *   messages whose first event of that type, whatever its flag, is in that minute and has that flag
 *   (`first_any`).
 * Every figure of a report is a sum over `report_minutes`, so a report costs the number of minutes, not
 * of events. `recordRollups` keeps both tables equal to what `rebuildRollups` recounts from `events`.
 */

export const MINUTE_MS = 60_000;

/** What `recordRollups` needs of each event inserted. */
export interface RolledEvent {
  message_id: string;
  campaign_id: string;
  run_id: string;
  activity: string;
  channel: string;
  type: string;
  human: boolean | number;
  /** ISO 8601. */
  at: string;
}

/** A timestamp column as epoch milliseconds, the same on both databases. */
export function epochMs(kind: DatabaseKind, column: RawBuilder<unknown>): RawBuilder<number> {
  return kind === 'sqlite'
    ? sql<number>`CAST(round(unixepoch(${column}, 'subsec') * 1000) AS INTEGER)`
    : sql<number>`CAST(round(extract(epoch FROM ${column}) * 1000) AS bigint)`;
}

interface Firsts {
  human: number | undefined;
  machine: number | undefined;
}

/** The first event of either kind; a human and a machine event at the same millisecond count as human. */
function firstOfAny(f: Firsts): { human: boolean; ms: number } | undefined {
  if (f.human !== undefined && (f.machine === undefined || f.human <= f.machine))
    return { human: true, ms: f.human };
  return f.machine === undefined ? undefined : { human: false, ms: f.machine };
}

const minuteOf = (ms: number) => Math.floor(ms / MINUTE_MS);
const lower = (a: number | undefined, b: number) => (a === undefined || b < a ? b : a);
const CHUNK = 500;

function chunks<T>(items: T[], size = CHUNK): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}

/** The statements of `recordRollups`, each given back its rows: one logic for the async and sync callers. */
function* rollupStatements(
  db: Kysely<BatonTables>,
  kind: DatabaseKind,
  events: readonly RolledEvent[],
): Generator<CompiledQuery, void, Array<Record<string, unknown>>> {
  if (events.length === 0) return;
  const batch = new Map<string, { event: RolledEvent; firsts: Firsts }>();
  for (const event of events) {
    const key = `${event.message_id}\u0000${event.type}`;
    const ms = Date.parse(event.at);
    if (Number.isNaN(ms)) throw new Error(`event time "${event.at}" is not ISO 8601`);
    const entry = batch.get(key) ?? { event, firsts: { human: undefined, machine: undefined } };
    if (event.human) entry.firsts.human = lower(entry.firsts.human, ms);
    else entry.firsts.machine = lower(entry.firsts.machine, ms);
    batch.set(key, entry);
  }
  // Sorted, so that two writers lock shared rows in the same order.
  const keys = [...batch.keys()].sort();
  const fresh = new Set<string>();
  for (const part of chunks(keys)) {
    const inserted = yield db
      .insertInto('report_firsts')
      .values(
        part.map((key) => {
          const { event, firsts } = batch.get(key)!;
          return {
            message_id: event.message_id,
            type: event.type,
            campaign_id: event.campaign_id,
            run_id: event.run_id,
            activity: event.activity,
            channel: event.channel,
            human_ms: firsts.human ?? null,
            machine_ms: firsts.machine ?? null,
          };
        }),
      )
      .onConflict((oc) => oc.columns(['message_id', 'type']).doNothing())
      .returning(['message_id', 'type'])
      .compile();
    for (const row of inserted as Array<{ message_id: string; type: string }>)
      fresh.add(`${row.message_id}\u0000${row.type}`);
  }
  const before = new Map<string, Firsts>();
  const existing = keys.filter((key) => !fresh.has(key));
  for (const part of chunks(existing)) {
    let query = db
      .selectFrom('report_firsts')
      .select(['message_id', 'type', 'human_ms', 'machine_ms'])
      .where((eb) =>
        eb.or(
          part.map((key) => {
            const { event } = batch.get(key)!;
            return eb.and([eb('message_id', '=', event.message_id), eb('type', '=', event.type)]);
          }),
        ),
      );
    if (kind === 'postgres') query = query.forUpdate();
    const rows = (yield query.compile()) as Array<{
      message_id: string;
      type: string;
      human_ms: unknown;
      machine_ms: unknown;
    }>;
    for (const row of rows) {
      before.set(`${row.message_id}\u0000${row.type}`, {
        human: row.human_ms === null ? undefined : Number(row.human_ms),
        machine: row.machine_ms === null ? undefined : Number(row.machine_ms),
      });
    }
  }

  const deltas = new Map<
    string,
    {
      bucket: RolledEvent & { humanFlag: number; minute: number };
      events: number;
      uniques: number;
      any: number;
    }
  >();
  const add = (
    event: RolledEvent,
    human: boolean,
    minute: number,
    field: 'events' | 'uniques' | 'any',
    n: number,
  ) => {
    const key = `${event.run_id}\u0000${event.activity}\u0000${event.type}\u0000${human ? 1 : 0}\u0000${minute}`;
    const delta = deltas.get(key) ?? {
      bucket: { ...event, humanFlag: human ? 1 : 0, minute },
      events: 0,
      uniques: 0,
      any: 0,
    };
    delta[field] += n;
    deltas.set(key, delta);
  };
  for (const event of events) add(event, Boolean(event.human), minuteOf(Date.parse(event.at)), 'events', 1);

  for (const key of keys) {
    const { event, firsts } = batch.get(key)!;
    const old: Firsts = before.get(key) ?? { human: undefined, machine: undefined };
    const now: Firsts = {
      human: firsts.human === undefined ? old.human : lower(old.human, firsts.human),
      machine: firsts.machine === undefined ? old.machine : lower(old.machine, firsts.machine),
    };
    for (const human of [true, false]) {
      const was = human ? old.human : old.machine;
      const is = human ? now.human : now.machine;
      if (was === is) continue;
      if (was !== undefined) add(event, human, minuteOf(was), 'uniques', -1);
      add(event, human, minuteOf(is!), 'uniques', 1);
    }
    const anyWas = firstOfAny(old);
    const anyIs = firstOfAny(now)!;
    if (anyWas?.ms !== anyIs.ms || anyWas.human !== anyIs.human) {
      if (anyWas) add(event, anyWas.human, minuteOf(anyWas.ms), 'any', -1);
      add(event, anyIs.human, minuteOf(anyIs.ms), 'any', 1);
    }
    if (!fresh.has(key) && (now.human !== old.human || now.machine !== old.machine)) {
      yield db
        .updateTable('report_firsts')
        .set({ human_ms: now.human ?? null, machine_ms: now.machine ?? null })
        .where('message_id', '=', event.message_id)
        .where('type', '=', event.type)
        .compile();
    }
  }

  const rows = [...deltas.values()].filter((d) => d.events !== 0 || d.uniques !== 0 || d.any !== 0);
  for (const part of chunks(rows, 300)) {
    yield db
      .insertInto('report_minutes')
      .values(
        part.map(({ bucket, events: n, uniques, any }) => ({
          campaign_id: bucket.campaign_id,
          run_id: bucket.run_id,
          activity: bucket.activity,
          channel: bucket.channel,
          type: bucket.type,
          human: bucket.humanFlag,
          minute: bucket.minute,
          events: n,
          uniques,
          first_any: any,
        })),
      )
      .onConflict((oc) =>
        oc.columns(['campaign_id', 'run_id', 'activity', 'channel', 'type', 'human', 'minute']).doUpdateSet({
          events: sql`report_minutes.events + excluded.events`,
          uniques: sql`report_minutes.uniques + excluded.uniques`,
          first_any: sql`report_minutes.first_any + excluded.first_any`,
        }),
      )
      .compile();
  }
}

/**
 * Adds inserted events to the roll-ups. Call it in the transaction that inserts them, so the roll-ups
 * commit with the events or not at all. Events may arrive in any order and in any batches: an event
 * earlier than a message's recorded first moves that first (and its unique count) to the earlier minute.
 * Concurrent writers are safe: the first rows of the batch's messages are inserted or locked (PostgreSQL
 * `FOR UPDATE`; SQLite writes one transaction at a time) before they are read.
 */
export async function recordRollups(
  trx: Kysely<BatonTables>,
  kind: DatabaseKind,
  events: readonly RolledEvent[],
): Promise<void> {
  const statements = rollupStatements(trx, kind, events);
  for (let next = statements.next(); !next.done;) {
    const { rows } = await trx.executeQuery<Record<string, unknown>>(next.value);
    next = statements.next(rows);
  }
}

/**
 * `recordRollups` inside a synchronous better-sqlite3 transaction (the SQLite event writer's own
 * connection); `db` only compiles the statements.
 */
export function recordRollupsSync(
  connection: BetterSqlite3.Database,
  db: Kysely<BatonTables>,
  events: readonly RolledEvent[],
): void {
  const statements = rollupStatements(db, 'sqlite', events);
  for (let next = statements.next(); !next.done;) {
    const statement = connection.prepare(next.value.sql);
    const parameters = next.value.parameters as unknown[];
    let rows: Array<Record<string, unknown>> = [];
    if (statement.reader) rows = statement.all(...parameters) as Array<Record<string, unknown>>;
    else statement.run(...parameters);
    next = statements.next(rows);
  }
}

/**
 * Recounts the roll-ups of one campaign (or of all) from `events`: what a report would be if it counted
 * the events themselves. The benchmark builds its roll-ups with it, and the tests compare it with what
 * `recordRollups` kept up to date.
 */
export async function rebuildRollups(database: Database, campaign?: string): Promise<void> {
  const ms = epochMs(database.kind, sql.ref('at'));
  const ofCampaign = campaign === undefined ? sql`` : sql`WHERE campaign_id = ${campaign}`;
  const andCampaign = campaign === undefined ? sql`` : sql`AND campaign_id = ${campaign}`;
  // A literal, not a parameter: PostgreSQL matches GROUP BY expressions to the selected ones by their text.
  const perMinute = sql.lit(MINUTE_MS);
  await database.db.transaction().execute(async (trx) => {
    await sql`DELETE FROM report_minutes ${ofCampaign}`.execute(trx);
    await sql`DELETE FROM report_firsts ${ofCampaign}`.execute(trx);
    await sql`INSERT INTO report_firsts
        (message_id, type, campaign_id, run_id, activity, channel, human_ms, machine_ms)
      SELECT message_id, type, MIN(campaign_id), MIN(run_id), MIN(activity), MIN(channel),
        MIN(CASE WHEN human THEN ${ms} END), MIN(CASE WHEN human THEN NULL ELSE ${ms} END)
      FROM events ${ofCampaign} GROUP BY message_id, type`.execute(trx);
    const anyHuman = sql`(machine_ms IS NULL OR (human_ms IS NOT NULL AND human_ms <= machine_ms))`;
    await sql`INSERT INTO report_minutes
        (campaign_id, run_id, activity, channel, type, human, minute, events, uniques, first_any)
      SELECT campaign_id, run_id, activity, channel, type, human, minute, SUM(events), SUM(uniques), SUM(first_any)
      FROM (
        SELECT campaign_id, run_id, activity, channel, type, CASE WHEN human THEN 1 ELSE 0 END AS human,
          ${ms} / ${perMinute} AS minute, COUNT(*) AS events, 0 AS uniques, 0 AS first_any
        FROM events ${ofCampaign}
        GROUP BY campaign_id, run_id, activity, channel, type, CASE WHEN human THEN 1 ELSE 0 END, ${ms} / ${perMinute}
        UNION ALL
        SELECT campaign_id, run_id, activity, channel, type, 1, human_ms / ${perMinute}, 0, COUNT(*), 0
        FROM report_firsts WHERE human_ms IS NOT NULL ${andCampaign}
        GROUP BY campaign_id, run_id, activity, channel, type, human_ms / ${perMinute}
        UNION ALL
        SELECT campaign_id, run_id, activity, channel, type, 0, machine_ms / ${perMinute}, 0, COUNT(*), 0
        FROM report_firsts WHERE machine_ms IS NOT NULL ${andCampaign}
        GROUP BY campaign_id, run_id, activity, channel, type, machine_ms / ${perMinute}
        UNION ALL
        SELECT campaign_id, run_id, activity, channel, type, CASE WHEN ${anyHuman} THEN 1 ELSE 0 END,
          CASE WHEN ${anyHuman} THEN human_ms ELSE machine_ms END / ${perMinute}, 0, 0, COUNT(*)
        FROM report_firsts ${ofCampaign}
        GROUP BY campaign_id, run_id, activity, channel, type, CASE WHEN ${anyHuman} THEN 1 ELSE 0 END,
          CASE WHEN ${anyHuman} THEN human_ms ELSE machine_ms END / ${perMinute}
      ) AS counted
      GROUP BY campaign_id, run_id, activity, channel, type, human, minute`.execute(trx);
  });
}
