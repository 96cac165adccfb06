import type BetterSqlite3 from 'better-sqlite3';
import { CompiledQuery, sql, type Kysely, type RawBuilder } from 'kysely';
import type { Database } from '../db/database.ts';
import { dialectFor, type DatabaseKind, type RowType, type SqlDialect } from '../db/dialect.ts';
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
/** Whether a batch's first time `batch` moves a recorded first time `recorded`. */
const moves = (recorded: number | undefined, batch: number | undefined) =>
  batch !== undefined && (recorded === undefined || batch < recorded);

/**
 * The roll-up statements, one text per database whatever the batch's size: each takes its rows from the
 * dialect's `rowSource`, so it is prepared and planned once (measured: compiling and planning a list of
 * thousands of parameters per batch was most of a batch's roll-up cost). Rows go in sorted by key, so
 * that two writers lock shared rows in the same order.
 */
interface RollupSql {
  /** Inserts the batch's first rows; returns the keys it inserted (the others existed). */
  insertFirsts: string;
  /** The existing first rows of the keys given. */
  readFirsts: string;
  /** The same, locked until the transaction ends; none where one writer at a time is the rule (SQLite). */
  lockFirsts: string | undefined;
  updateFirsts: string;
  addMinutes: string;
}

const FIRSTS = 'message_id, type, campaign_id, run_id, activity, channel, human_ms, machine_ms';
const MINUTES = 'campaign_id, run_id, activity, channel, type, human, minute, events, uniques, first_any';
const MINUTES_KEY = 'campaign_id, run_id, activity, channel, type, human, minute';
const ADD_MINUTES = `events = report_minutes.events + excluded.events,
  uniques = report_minutes.uniques + excluded.uniques, first_any = report_minutes.first_any + excluded.first_any`;
const FIRSTS_TYPES: RowType[] = ['text', 'text', 'text', 'text', 'text', 'text', 'bigint', 'bigint'];
const KEY_TYPES: RowType[] = ['text', 'text'];
const MOVED_TYPES: RowType[] = ['text', 'text', 'bigint', 'bigint'];
const MINUTES_TYPES: RowType[] = [
  'text',
  'text',
  'text',
  'text',
  'text',
  'integer',
  'bigint',
  'bigint',
  'bigint',
  'bigint',
];

function rollupSql(dialect: SqlDialect): RollupSql {
  const readFirsts = `SELECT f.message_id, f.type, f.human_ms, f.machine_ms
    FROM report_firsts f JOIN ${dialect.rowSource(KEY_TYPES)} ON f.message_id = r.c0 AND f.type = r.c1`;
  const lock = dialect.forUpdate('f');
  // "WHERE true": SQLite reads an INSERT … SELECT's ON CONFLICT as a join's ON without a WHERE before it.
  return {
    insertFirsts: `INSERT INTO report_firsts (${FIRSTS}) SELECT * FROM ${dialect.rowSource(FIRSTS_TYPES)}
      WHERE true ON CONFLICT (message_id, type) DO NOTHING RETURNING message_id, type`,
    readFirsts,
    lockFirsts: lock === undefined ? undefined : `${readFirsts} ORDER BY f.message_id, f.type ${lock}`,
    updateFirsts: `UPDATE report_firsts AS f SET human_ms = r.c2, machine_ms = r.c3
      FROM ${dialect.rowSource(MOVED_TYPES)} WHERE f.message_id = r.c0 AND f.type = r.c1`,
    addMinutes: `INSERT INTO report_minutes (${MINUTES}) SELECT * FROM ${dialect.rowSource(MINUTES_TYPES)}
      WHERE true ON CONFLICT (${MINUTES_KEY}) DO UPDATE SET ${ADD_MINUTES}`,
  };
}

const ROLLUP_SQL: Record<DatabaseKind, RollupSql> = {
  sqlite: rollupSql(dialectFor('sqlite')),
  postgres: rollupSql(dialectFor('postgres')),
};

interface Statement {
  sql: string;
  parameters: unknown[];
}

/** A statement of `sql` over `rows`, in the parameters its row source reads. */
function statement(kind: DatabaseKind, sql: string, rows: unknown[][]): Statement {
  return { sql, parameters: dialectFor(kind).rowParameters(rows, rows[0]?.length ?? 0) };
}

/** The statements of `recordRollups`, each given back its rows: one logic for the async and sync callers. */
function* rollupStatements(
  kind: DatabaseKind,
  events: readonly RolledEvent[],
): Generator<Statement, void, Array<Record<string, unknown>>> {
  if (events.length === 0) return;
  const sqlOf = ROLLUP_SQL[kind];
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
  const inserted = yield statement(
    kind,
    sqlOf.insertFirsts,
    keys.map((key) => {
      const { event, firsts } = batch.get(key)!;
      return [
        event.message_id,
        event.type,
        event.campaign_id,
        event.run_id,
        event.activity,
        event.channel,
        firsts.human ?? null,
        firsts.machine ?? null,
      ];
    }),
  );
  const fresh = new Set(inserted.map((row) => `${String(row.message_id)}\u0000${String(row.type)}`));
  const keyRows = (of: string[]) =>
    of.map((key) => {
      const { event } = batch.get(key)!;
      return [event.message_id, event.type];
    });
  const read = (rows: Array<Record<string, unknown>>, into: Map<string, Firsts>) => {
    for (const row of rows) {
      into.set(`${String(row.message_id)}\u0000${String(row.type)}`, {
        human: row.human_ms === null ? undefined : Number(row.human_ms),
        machine: row.machine_ms === null ? undefined : Number(row.machine_ms),
      });
    }
  };
  const before = new Map<string, Firsts>();
  const existing = keys.filter((key) => !fresh.has(key));
  if (existing.length > 0) read(yield statement(kind, sqlOf.readFirsts, keyRows(existing)), before);
  // Only the rows this batch changes are locked (and read again, locked). A first time only ever moves
  // earlier (or appears), so a row the batch does not change as read stays unchanged by it whatever
  // another writer commits meanwhile; most later opens and clicks of a message change nothing, and
  // locking every row of a batch cost PostgreSQL a write per row.
  const changing = existing.filter((key) => {
    const { firsts } = batch.get(key)!;
    const old = before.get(key);
    return moves(old?.human, firsts.human) || moves(old?.machine, firsts.machine);
  });
  if (sqlOf.lockFirsts !== undefined && changing.length > 0) {
    read(yield statement(kind, sqlOf.lockFirsts, keyRows(changing)), before);
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

  const updates: unknown[][] = [];
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
      updates.push([event.message_id, event.type, now.human ?? null, now.machine ?? null]);
    }
  }
  if (updates.length > 0) yield statement(kind, sqlOf.updateFirsts, updates);

  // Sorted like the firsts: writers adding to the same minutes lock them in the same order.
  const minutes = [...deltas.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, delta]) => delta)
    .filter((d) => d.events !== 0 || d.uniques !== 0 || d.any !== 0)
    .map(({ bucket, events: n, uniques, any }) => [
      bucket.campaign_id,
      bucket.run_id,
      bucket.activity,
      bucket.channel,
      bucket.type,
      bucket.humanFlag,
      bucket.minute,
      n,
      uniques,
      any,
    ]);
  if (minutes.length > 0) yield statement(kind, sqlOf.addMinutes, minutes);
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
  const statements = rollupStatements(kind, events);
  for (let next = statements.next(); !next.done;) {
    const { rows } = await trx.executeQuery<Record<string, unknown>>(
      CompiledQuery.raw(next.value.sql, next.value.parameters),
    );
    next = statements.next(rows);
  }
}

/** Each connection's roll-up statements, prepared once. */
const prepared = new WeakMap<BetterSqlite3.Database, Map<string, BetterSqlite3.Statement>>();

/** `recordRollups` inside a synchronous better-sqlite3 transaction (the SQLite event writer's own connection). */
export function recordRollupsSync(connection: BetterSqlite3.Database, events: readonly RolledEvent[]): void {
  let statements = prepared.get(connection);
  if (!statements) {
    statements = new Map();
    prepared.set(connection, statements);
  }
  const run = rollupStatements('sqlite', events);
  for (let next = run.next(); !next.done;) {
    let statement = statements.get(next.value.sql);
    if (!statement) {
      statement = connection.prepare(next.value.sql);
      statements.set(next.value.sql, statement);
    }
    let rows: Array<Record<string, unknown>> = [];
    if (statement.reader) rows = statement.all(...next.value.parameters) as Array<Record<string, unknown>>;
    else statement.run(...next.value.parameters);
    next = run.next(rows);
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
