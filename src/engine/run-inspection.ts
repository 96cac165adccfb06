import type { Database } from '../db/database.ts';
import { containsText } from '../db/text-search.ts';
import { NotFoundError, UserError } from '../errors.ts';
import { requireSchema } from '../schema/store.ts';
import { keyedTableRows, transitionDimension, workingTableRef, type ExtraColumn } from './working-tables.ts';

/**
 * Reading a run: its status with the count on every transition, the rows of a transition, its logs. Runs
 * are written by run-driver.ts; everything here only reads, so the API can answer while a run goes on.
 */
export type TaskState =
  'pending' | 'running' | 'waiting' | 'paused' | 'needs-confirmation' | 'done' | 'failed' | 'skipped';

export interface RunStatus {
  run: string;
  campaign: string;
  mode: string;
  status: string;
  error: string | null;
  startedAt: string;
  finishedAt: string | null;
  /** Rows on each transition, named as inputs name them: `activity` or `activity.port`. */
  counts: Record<string, number>;
  tasks: Record<string, TaskState>;
}

/** A transition as inputs name it: `activity`, or `activity.port`. */
export const portName = (activity: string, port: string) => (port ? `${activity}.${port}` : activity);

export async function runStatus(database: Database, run: string): Promise<RunStatus> {
  const row = await database.db.selectFrom('runs').selectAll().where('id', '=', run).executeTakeFirst();
  if (!row) throw new NotFoundError(`No run ${run}.`);
  // Tasks and counts are listed in the document's order of activities, as its author wrote them.
  const order = Object.keys((JSON.parse(row.document) as { activities: Record<string, unknown> }).activities);
  const byOrder = (a: { activity: string }, b: { activity: string }) =>
    order.indexOf(a.activity) - order.indexOf(b.activity);
  const tasks = (
    await database.db
      .selectFrom('run_tasks')
      .select(['activity', 'state'])
      .where('run_id', '=', run)
      .execute()
  ).sort(byOrder);
  const transitions = (
    await database.db
      .selectFrom('run_transitions')
      .select(['activity', 'port', 'row_count', 'created_at'])
      .where('run_id', '=', run)
      .execute()
  ).sort((a, b) => byOrder(a, b) || String(a.created_at).localeCompare(String(b.created_at)));
  return {
    run,
    campaign: row.campaign_id,
    mode: row.mode,
    status: row.status,
    error: row.error,
    startedAt: new Date(row.started_at).toISOString(),
    finishedAt: row.finished_at ? new Date(row.finished_at).toISOString() : null,
    counts: Object.fromEntries(transitions.map((t) => [portName(t.activity, t.port), Number(t.row_count)])),
    tasks: Object.fromEntries(tasks.map((t) => [t.activity, t.state as TaskState])),
  };
}

/** A page of a transition's rows: the population's columns, in key order. */
export async function transitionRows(
  database: Database,
  run: string,
  transition: string,
  page: { limit: number; offset: number },
): Promise<{ transition: string; count: number } & Awaited<ReturnType<typeof keyedTableRows>>> {
  const dot = transition.indexOf('.');
  const activity = dot < 0 ? transition : transition.slice(0, dot);
  const port = dot < 0 ? '' : transition.slice(dot + 1);
  const row = await database.db
    .selectFrom('run_transitions')
    .selectAll()
    .where('run_id', '=', run)
    .where('activity', '=', activity)
    .where('port', '=', port)
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`Run ${run} has no transition ${transition}.`);
  const purged = await database.db
    .selectFrom('runs')
    .select('purged_at')
    .where('id', '=', run)
    .executeTakeFirst();
  if (purged?.purged_at) {
    throw new UserError(
      `The rows of run ${run} were dropped after the retention period (BATON_RUN_RETENTION_DAYS); its counts are kept (${transition}: ${Number(row.row_count)}).`,
      { status: 410 },
    );
  }
  const { schema } = await requireSchema(database);
  const dimension = transitionDimension(schema, row.dimension ?? '');
  if (!dimension)
    throw new NotFoundError(
      `The table ${String(row.dimension)} of transition ${transition} is no longer in the workspace.`,
    );
  const extra = JSON.parse(row.columns ?? '[]') as ExtraColumn[];
  const ref = workingTableRef(database, row.working_table);
  return {
    transition,
    count: Number(row.row_count),
    ...(await keyedTableRows(database, ref, dimension, extra, page)),
  };
}

export const LOG_LEVELS = ['debug', 'info', 'warning', 'error'] as const;

export interface RunLogLine {
  id: number;
  activity: string | null;
  level: string;
  message: string;
  fields: Record<string, unknown>;
  at: string;
}

/**
 * A run's log lines, oldest first: at `level` or above (info by default: a task's start is debug), of
 * one activity, containing a text (case-insensitive), after a line id (to follow a run as it goes).
 */
export async function runLogs(
  database: Database,
  run: string,
  filter: {
    level?: (typeof LOG_LEVELS)[number];
    activity?: string;
    text?: string;
    after?: number;
    limit?: number;
  } = {},
): Promise<RunLogLine[]> {
  await runStatus(database, run);
  const levels = LOG_LEVELS.slice(LOG_LEVELS.indexOf(filter.level ?? 'info'));
  let query = database.db
    .selectFrom('run_logs')
    .select(['id', 'activity', 'level', 'message', 'fields', 'at'])
    .where('run_id', '=', run)
    .where('level', 'in', levels);
  if (filter.activity !== undefined) query = query.where('activity', '=', filter.activity);
  if (filter.after !== undefined) query = query.where('id', '>', filter.after);
  if (filter.text !== undefined) query = query.where(containsText('message', filter.text));
  const rows = await query
    .orderBy('id')
    .limit(filter.limit ?? 1000)
    .execute();
  return rows.map((r) => ({
    id: Number(r.id),
    activity: r.activity,
    level: r.level,
    message: r.message,
    fields: JSON.parse(r.fields ?? '{}') as Record<string, unknown>,
    at: new Date(r.at).toISOString(),
  }));
}
