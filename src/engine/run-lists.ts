import type { InferResult } from 'kysely';
import type { Database } from '../db/database.ts';
import { NotFoundError } from '../errors.ts';
import { portName, type TaskState } from './run-inspection.ts';

/**
 * The lists a monitor pages through: a campaign's runs (its executions) with their ledger totals, and a
 * run's tasks with their timings and output counts.
 */

export const RUN_STATUSES = [
  'queued',
  'running',
  'waiting',
  'pausing',
  'paused',
  'stopping',
  'stopped',
  'done',
  'failed',
] as const;

export const TASK_STATES = [
  'pending',
  'running',
  'waiting',
  'paused',
  'needs-confirmation',
  'done',
  'failed',
  'skipped',
] as const satisfies readonly TaskState[];

export interface RunSummary {
  id: string;
  mode: string;
  trigger: string;
  status: string;
  /** The campaign version a live run executes; null for a test run (it runs the draft). */
  version: number | null;
  startedAt: string;
  finishedAt: string | null;
  error: string | null;
  /** Messages of the run in the ledger (always 0 for a test run, which sends nothing). */
  sent: number;
  failed: number;
  bounced: number;
  excluded: number;
}

/** A campaign's runs, newest first, with the ledger totals of the page's runs read in one query. */
export async function listCampaignRuns(
  database: Database,
  campaign: string,
  query: {
    limit: number;
    offset: number;
    mode?: 'test' | 'live';
    status?: (typeof RUN_STATUSES)[number];
  },
): Promise<{ total: number; runs: RunSummary[] }> {
  const exists = await database.db
    .selectFrom('campaigns')
    .select('id')
    .where('id', '=', campaign)
    .executeTakeFirst();
  if (!exists) throw new NotFoundError(`No campaign ${campaign}.`);
  let runs = database.db.selectFrom('runs').where('campaign_id', '=', campaign);
  if (query.mode) runs = runs.where('mode', '=', query.mode);
  if (query.status) runs = runs.where('status', '=', query.status);
  const rows = await runs
    .select(['id', 'mode', 'trigger', 'status', 'version', 'started_at', 'finished_at', 'error'])
    .orderBy('started_at', 'desc')
    .orderBy('id', 'desc')
    .limit(query.limit)
    .offset(query.offset)
    .execute();
  const { n } = await runs
    .select((eb) => eb.fn.countAll<number | string>().as('n'))
    .executeTakeFirstOrThrow();
  const totals = new Map<string, Record<string, number>>();
  if (rows.length > 0) {
    const counting = database.db
      .selectFrom('messages')
      .select(['run_id', 'status', (eb) => eb.fn.countAll<number | string>().as('n')])
      .where(
        'run_id',
        'in',
        rows.map((r) => r.id),
      )
      .groupBy(['run_id', 'status'])
      .compile();
    // Through `read`: on SQLite the page's messages are counted in the reader thread.
    const ledger = await database.read<InferResult<typeof counting>[number]>(counting);
    for (const r of ledger) totals.set(r.run_id, { ...totals.get(r.run_id), [r.status]: Number(r.n) });
  }
  return {
    total: Number(n),
    runs: rows.map((r) => {
      const byStatus = totals.get(r.id) ?? {};
      return {
        id: r.id,
        mode: r.mode,
        trigger: r.trigger,
        status: r.status,
        version: r.version === null ? null : Number(r.version),
        startedAt: new Date(r.started_at).toISOString(),
        finishedAt: r.finished_at ? new Date(r.finished_at).toISOString() : null,
        error: r.error,
        sent: byStatus.sent ?? 0,
        failed: byStatus.failed ?? 0,
        bounced: byStatus.bounced ?? 0,
        excluded: byStatus.excluded ?? 0,
      };
    }),
  };
}

export interface RunTask {
  activity: string;
  type: string;
  state: TaskState;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
  /** From its (last) start to its end; null while it has not ended. */
  durationMs: number | null;
  /** How many times it was started (a resume or a takeover executes it again). */
  attempts: number;
  /** A waiting task's wake-up time, on the run's clock. */
  wakeAt: string | null;
  /** Rows on each of its outputs, named as inputs name them. */
  outputs: Record<string, number>;
}

/** A run's tasks in the document's order, of one state or one activity when asked. */
export async function listRunTasks(
  database: Database,
  run: string,
  filter: { state?: TaskState; activity?: string } = {},
): Promise<RunTask[]> {
  const found = await database.db
    .selectFrom('runs')
    .select('document')
    .where('id', '=', run)
    .executeTakeFirst();
  if (!found) throw new NotFoundError(`No run ${run}.`);
  const activities = (JSON.parse(found.document) as { activities: Record<string, { type?: string }> })
    .activities;
  const order = Object.keys(activities);
  let tasks = database.db.selectFrom('run_tasks').selectAll().where('run_id', '=', run);
  if (filter.state) tasks = tasks.where('state', '=', filter.state);
  if (filter.activity) tasks = tasks.where('activity', '=', filter.activity);
  let transitions = database.db
    .selectFrom('run_transitions')
    .select(['activity', 'port', 'row_count', 'created_at'])
    .where('run_id', '=', run);
  if (filter.activity) transitions = transitions.where('activity', '=', filter.activity);
  const outputs = new Map<string, Record<string, number>>();
  for (const t of (await transitions.execute()).sort((a, b) =>
    String(a.created_at).localeCompare(String(b.created_at)),
  ))
    outputs.set(t.activity, {
      ...outputs.get(t.activity),
      [portName(t.activity, t.port)]: Number(t.row_count),
    });
  const iso = (at: string | null) => (at ? new Date(at).toISOString() : null);
  return (await tasks.execute())
    .sort((a, b) => order.indexOf(a.activity) - order.indexOf(b.activity))
    .map((t) => ({
      activity: t.activity,
      type: activities[t.activity]?.type ?? 'unknown',
      state: t.state as TaskState,
      error: t.error,
      startedAt: iso(t.started_at),
      finishedAt: iso(t.finished_at),
      durationMs: t.started_at && t.finished_at ? Date.parse(t.finished_at) - Date.parse(t.started_at) : null,
      attempts: Number(t.attempts),
      wakeAt: t.wake_at === null ? null : new Date(Number(t.wake_at)).toISOString(),
      outputs: outputs.get(t.activity) ?? {},
    }));
}
