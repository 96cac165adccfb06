import type { InferResult } from 'kysely';
import { setTimeout as delay } from 'node:timers/promises';
import { findActivity } from '../activities/registry.ts';
import type { Database } from '../db/database.ts';
import { NotFoundError } from '../errors.ts';
import {
  LOG_LEVELS,
  portName,
  runStatus,
  type RunLogLine,
  type RunStatus,
  type TaskState,
} from './run-inspection.ts';

/**
 * Following a run as it goes: a snapshot of its whole state, then only what changed — task states,
 * transition counts, delivery progress, new log lines, the run's status — until it ends.
 *
 * A run may be executed by another process (a `baton worker`, another server), so nothing here listens
 * to the engine: the database is read every `intervalMs` and compared with what was last sent. A poll is
 * a handful of indexed reads of the run's rows, and one grouped read of its ledger.
 */

export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * The statuses a message can have in the ledger (src/db/tables.ts, `messages.status`); `delivered` comes
 * later, from the provider's receipt (src/tracking/feedback/).
 */
const MESSAGE_STATUSES = [
  'queued',
  'sending',
  'sent',
  'delivered',
  'failed',
  'bounced',
  'excluded',
  'uncertain',
] as const;
type MessageStatus = (typeof MESSAGE_STATUSES)[number];

/** A run in one of these no longer changes by itself: its stream ends. */
const FINAL_RUN_STATUSES = ['done', 'failed', 'stopped'] as const;

/** A channel activity's messages by status, and the excluded ones by reason. */
export type DeliveryProgress = { activity: string; excludedByReason: Record<string, number> } & Record<
  MessageStatus,
  number
>;

export type RunEventBody =
  | ({
      type: 'snapshot';
      /** The errors of the tasks that have one (a failed task's message). */
      taskErrors: Record<string, string>;
      deliveries: DeliveryProgress[];
      /** The latest log lines (a new stream), or every line after the resumed one (a reconnection). */
      logs: RunLogLine[];
    } & RunStatus)
  | { type: 'run'; status: string; error: string | null; finishedAt: string | null }
  | { type: 'task'; activity: string; state: TaskState; error?: string }
  /** `count: null`: the transition is gone (its task is executed again after a takeover). */
  | { type: 'transition'; transition: string; count: number | null }
  | ({ type: 'delivery' } & DeliveryProgress)
  | { type: 'log'; lines: RunLogLine[] }
  | { type: 'end'; status: string; error: string | null; finishedAt: string | null };

/** An event with its place in the run's stream: clients apply events in `seq` order. */
export type RunEvent = RunEventBody & { seq: number };

export interface WatchedEvent {
  /**
   * Where a reconnecting client resumes (SSE `id:` / `Last-Event-ID`): `<seq>:<last log line id>`. A
   * resumed stream starts with a fresh snapshot numbered after `seq` and the log lines after that line,
   * so nothing is missed and no log line comes twice.
   */
  id: string;
  event: RunEvent;
}

export interface WatchOptions {
  /** How often the database is read (500 ms by default). */
  intervalMs?: number;
  /** Stops the polling (the client went away). */
  signal?: AbortSignal;
  /** The lowest level of the log lines sent (info by default, as `baton runs logs`). */
  level?: LogLevel;
  /** The `id` of the last event an earlier stream delivered; anything unreadable starts afresh. */
  resumeFrom?: string;
}

export const DEFAULT_WATCH_INTERVAL_MS = 500;
/** The latest log lines a new stream's snapshot carries. */
const SNAPSHOT_LOG_LINES = 100;
const LOG_PAGE = 500;
/**
 * A final run is ended once its closing log line (`run.done`…) is read: what the engine writes before
 * that line (the tasks a stop skips) is then in the reads that follow. A run that ended without one is
 * ended after this many polls.
 */
const POLLS_WITHOUT_CLOSING_LINE = 10;

interface LogRow {
  id: number | string;
  activity: string | null;
  level: string;
  message: string;
  fields: string | null;
  at: string;
}

interface TaskRow {
  state: TaskState;
  error: string | null;
}

export async function* watchRun(
  database: Database,
  run: string,
  options: WatchOptions = {},
): AsyncGenerator<WatchedEvent, void, undefined> {
  const intervalMs = options.intervalMs ?? DEFAULT_WATCH_INTERVAL_MS;
  const levels = new Set<string>(LOG_LEVELS.slice(LOG_LEVELS.indexOf(options.level ?? 'info')));
  const resumed = parseEventId(options.resumeFrom);
  let seq = resumed?.seq ?? 0;
  let logCursor = resumed?.logId ?? 0;
  const emit = (body: RunEventBody): WatchedEvent => {
    seq += 1;
    return { id: `${seq}:${logCursor}`, event: { ...body, seq } };
  };

  // Logs are read before the rest, in the snapshot as in every poll: once the closing line of a run is
  // read, every write that came before it is in the reads that follow.
  const newest = await database.db
    .selectFrom('run_logs')
    .select(['id', 'fields'])
    .where('run_id', '=', run)
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
  let closingEvent = eventOf(newest?.fields ?? null);
  let snapshotLogs: LogRow[];
  if (resumed) {
    const rows = await logRowsAfter(database, run, resumed.logId);
    const last = rows.at(-1);
    if (last) {
      logCursor = Number(last.id);
      closingEvent = eventOf(last.fields);
    }
    snapshotLogs = rows.filter((r) => levels.has(r.level));
  } else {
    logCursor = Number(newest?.id ?? 0);
    snapshotLogs = (
      await database.db
        .selectFrom('run_logs')
        .select(['id', 'activity', 'level', 'message', 'fields', 'at'])
        .where('run_id', '=', run)
        .where('level', 'in', [...levels])
        .where('id', '<=', logCursor)
        .orderBy('id', 'desc')
        .limit(SNAPSHOT_LOG_LINES)
        .execute()
    ).reverse();
  }
  const status = await runStatus(database, run);
  const { document } = await database.db
    .selectFrom('runs')
    .select('document')
    .where('id', '=', run)
    .executeTakeFirstOrThrow();
  const activities = (JSON.parse(document) as { activities: Record<string, { type?: string }> }).activities;
  const order = Object.keys(activities);
  const channels =
    status.mode === 'live'
      ? order.filter((a) => findActivity(activities[a]?.type ?? '')?.category === 'channel')
      : [];
  const taskErrors = Object.fromEntries(
    (
      await database.db
        .selectFrom('run_tasks')
        .select(['activity', 'error'])
        .where('run_id', '=', run)
        .where('error', 'is not', null)
        .execute()
    ).map((t) => [t.activity, t.error!]),
  );
  const deliveries = await deliveryProgress(database, run, channels);

  // What the client knows, to send only what differs from it.
  const tasks = new Map<string, TaskRow>(
    Object.entries(status.tasks).map(([activity, state]) => [
      activity,
      { state, error: taskErrors[activity] ?? null },
    ]),
  );
  const counts = new Map(Object.entries(status.counts));
  const delivered = new Map(deliveries.map((d) => [d.activity, JSON.stringify(d)]));
  let runState = { status: status.status, error: status.error, finishedAt: status.finishedAt };

  yield emit({
    type: 'snapshot',
    ...status,
    taskErrors,
    deliveries,
    logs: snapshotLogs.map(logLine),
  });
  const ended = (polls: number) =>
    isFinal(runState.status) &&
    (closingEvent === `run.${runState.status}` || polls >= POLLS_WITHOUT_CLOSING_LINE);
  if (ended(0)) {
    yield emit({ type: 'end', ...runState });
    return;
  }

  const rank = (activity: string) => order.indexOf(activity);
  let finalPolls = 0;
  for (;;) {
    if (!(await pause(intervalMs, options.signal))) return;
    const logRows = await logRowsAfter(database, run, logCursor);
    const row = await database.db
      .selectFrom('runs')
      .select(['status', 'error', 'finished_at'])
      .where('id', '=', run)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`Run ${run} was deleted while it was followed.`);
    const taskRows = (
      await database.db
        .selectFrom('run_tasks')
        .select(['activity', 'state', 'error'])
        .where('run_id', '=', run)
        .execute()
    ).sort((a, b) => rank(a.activity) - rank(b.activity));
    const transitionRows = (
      await database.db
        .selectFrom('run_transitions')
        .select(['activity', 'port', 'row_count', 'created_at'])
        .where('run_id', '=', run)
        .execute()
    ).sort(
      (a, b) =>
        rank(a.activity) - rank(b.activity) || String(a.created_at).localeCompare(String(b.created_at)),
    );
    const progress = await deliveryProgress(database, run, channels);
    if (options.signal?.aborted) return;

    for (const t of taskRows) {
      const known = tasks.get(t.activity);
      if (known?.state === t.state && known.error === t.error) continue;
      tasks.set(t.activity, { state: t.state as TaskState, error: t.error });
      yield emit({
        type: 'task',
        activity: t.activity,
        state: t.state as TaskState,
        ...(t.error === null ? {} : { error: t.error }),
      });
    }
    const present = new Set<string>();
    for (const t of transitionRows) {
      const name = portName(t.activity, t.port);
      const count = Number(t.row_count);
      present.add(name);
      if (counts.get(name) === count) continue;
      counts.set(name, count);
      yield emit({ type: 'transition', transition: name, count });
    }
    for (const name of [...counts.keys()].filter((n) => !present.has(n))) {
      counts.delete(name);
      yield emit({ type: 'transition', transition: name, count: null });
    }
    for (const p of progress) {
      const key = JSON.stringify(p);
      if (delivered.get(p.activity) === key) continue;
      delivered.set(p.activity, key);
      yield emit({ type: 'delivery', ...p });
    }
    const last = logRows.at(-1);
    if (last) {
      logCursor = Number(last.id);
      closingEvent = eventOf(last.fields);
      const lines = logRows.filter((r) => levels.has(r.level)).map(logLine);
      if (lines.length > 0) yield emit({ type: 'log', lines });
    }
    const finishedAt = row.finished_at ? new Date(row.finished_at).toISOString() : null;
    if (row.status !== runState.status || row.error !== runState.error) {
      runState = { status: row.status, error: row.error, finishedAt };
      yield emit({ type: 'run', ...runState });
    }
    runState.finishedAt = finishedAt;
    finalPolls = isFinal(runState.status) ? finalPolls + 1 : 0;
    if (ended(finalPolls)) {
      yield emit({ type: 'end', ...runState });
      return;
    }
  }
}

/** `<seq>:<log line id>`, as `WatchedEvent.id` writes it; undefined for anything else. */
function parseEventId(id: string | undefined): { seq: number; logId: number } | undefined {
  const match = /^(\d{1,15}):(\d{1,15})$/.exec(id ?? '');
  return match ? { seq: Number(match[1]), logId: Number(match[2]) } : undefined;
}

function isFinal(status: string): boolean {
  return (FINAL_RUN_STATUSES as readonly string[]).includes(status);
}

/** Waits `ms`; false when the signal stopped the wait (or had already). */
async function pause(ms: number, signal: AbortSignal | undefined): Promise<boolean> {
  if (signal?.aborted) return false;
  try {
    await delay(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Every log line of the run after `after`, of every level (the closing line is looked for in them). */
async function logRowsAfter(database: Database, run: string, after: number): Promise<LogRow[]> {
  const rows: LogRow[] = [];
  for (;;) {
    const page = await database.db
      .selectFrom('run_logs')
      .select(['id', 'activity', 'level', 'message', 'fields', 'at'])
      .where('run_id', '=', run)
      .where('id', '>', rows.length > 0 ? Number(rows.at(-1)!.id) : after)
      .orderBy('id')
      .limit(LOG_PAGE)
      .execute();
    rows.push(...page);
    if (page.length < LOG_PAGE) return rows;
  }
}

function eventOf(fields: string | null): unknown {
  return fields === null ? undefined : (JSON.parse(fields) as { event?: unknown }).event;
}

function logLine(row: LogRow): RunLogLine {
  return {
    id: Number(row.id),
    activity: row.activity,
    level: row.level,
    message: row.message,
    fields: JSON.parse(row.fields ?? '{}') as Record<string, unknown>,
    at: new Date(row.at).toISOString(),
  };
}

/**
 * The ledger of the run's channel activities, in one grouped read for all of them; exclusion reasons are
 * kept apart, failure reasons (the provider's words, one per address) are not.
 */
async function deliveryProgress(
  database: Database,
  run: string,
  channels: string[],
): Promise<DeliveryProgress[]> {
  if (channels.length === 0) return [];
  const counting = database.db
    .selectFrom('messages')
    .select((eb) => [
      'activity',
      'status',
      eb.case().when('status', '=', 'excluded').then(eb.ref('reason')).end().as('excluded_reason'),
      eb.fn.countAll<number | string>().as('n'),
    ])
    .where('run_id', '=', run)
    // By the output's name: the expression repeated would bind 'excluded' twice, and PostgreSQL does not
    // see two parameters as the same expression.
    .groupBy(['activity', 'status', 'excluded_reason'])
    .compile();
  // Through `read`: on SQLite a large ledger is counted in the reader thread, never blocking the server.
  const rows = await database.read<InferResult<typeof counting>[number]>(counting);
  const progress = new Map<string, DeliveryProgress>(
    channels.map((activity) => [
      activity,
      {
        activity,
        ...(Object.fromEntries(MESSAGE_STATUSES.map((s) => [s, 0])) as Record<MessageStatus, number>),
        excludedByReason: {},
      },
    ]),
  );
  for (const r of rows) {
    const entry = progress.get(r.activity);
    if (!entry || !(MESSAGE_STATUSES as readonly string[]).includes(r.status)) continue;
    const n = Number(r.n);
    entry[r.status as MessageStatus] += n;
    if (r.status === 'excluded') {
      const reason = r.excluded_reason ?? 'unknown';
      entry.excludedByReason[reason] = (entry.excludedByReason[reason] ?? 0) + n;
    }
  }
  return [...progress.values()];
}
