import { setTimeout as delay } from 'node:timers/promises';
import type { CheckedActivity } from '../campaigns/document.ts';
import { validateCampaign } from '../campaigns/store.ts';
import type { Database } from '../db/database.ts';
import { NotFoundError } from '../errors.ts';
import { requireSchema } from '../schema/store.ts';
import type { Clock } from './clock.ts';
import { portName, type TaskState } from './run-inspection.ts';
import { writeRunLog } from './run-log.ts';
import { taskContext, TaskParked, type AlertNotifier, type RunInfo } from './task-context.ts';
import { isRecurring, signalParameters } from '../campaigns/statuses.ts';
import type { Value } from '../rules/values.ts';
import {
  dropWorkingTable,
  transitionDimension,
  type ExtraColumn,
  type WorkingTable,
} from './working-tables.ts';

/** How often a driver looks at the run's row for a stop or pause asked by another process. */
const CONTROL_POLL_MS = 250;

export interface DriveOptions {
  /** The process's name in the run's lease: once another process holds it, this one writes nothing more. */
  owner: string;
  clock: Clock;
  /** How many tasks of the run may execute at the same time (independent branches). */
  concurrency: number;
  notifier?: AlertNotifier;
}

interface Task {
  state: TaskState;
  wakeAt: number | null;
  released: boolean;
}

/**
 * Executes a run from wherever it stands, until it settles: done, failed, stopped, paused (a breakpoint
 * or a pause asked for) or waiting (only durable timers left; the engine's sweep drives it again when
 * one is due). All the run's state is in the database — tasks, transitions with their working tables,
 * timers — so the same code starts a run, resumes it, and takes over one whose process died.
 *
 * An activity runs once all its inputs are settled; when an input did not fire (a disabled activity, an
 * empty segment with skip-empty) it is skipped, and so is what follows it. Independent branches run at
 * the same time, at most `concurrency` tasks at once. A failing task lets the tasks already running
 * finish, starts no new one, and fails the run with the task's error; what ran stays inspectable and
 * a resume executes the failed task again.
 */
export async function driveRun(database: Database, runId: string, options: DriveOptions): Promise<void> {
  const row = await database.db.selectFrom('runs').selectAll().where('id', '=', runId).executeTakeFirst();
  if (!row) throw new NotFoundError(`No run ${runId}.`);
  const document = JSON.parse(row.document) as Record<string, unknown>;
  const run: RunInfo = {
    variables: runVariables(document, row.mode, row.variables),
    variableTypes: Object.fromEntries(signalParameters(document).map((p) => [p.name, p.type])),
    id: runId,
    campaign: row.campaign_id,
    mode: row.mode === 'live' ? 'live' : 'test',
    now: Number(row.now_ms),
    // Published one-shot campaigns ask; a live run of no version is the engine's own (tests, benchmarks).
    confirmSends: row.mode === 'live' && row.version !== null && !isRecurring(document),
  };
  /** Fences a process whose lease lapsed (it was thought dead and its run taken over) from writing. */
  const assertOwned = async () => {
    const lease = await database.db
      .selectFrom('runs')
      .select('lease_owner')
      .where('id', '=', runId)
      .executeTakeFirst();
    if (lease?.lease_owner !== options.owner) throw new RunTakenOver();
  };
  const setTask = async (activity: string, state: TaskState, changes?: TaskChanges) => {
    await assertOwned();
    await writeTask(database, runId, activity, state, changes);
  };
  let activities: CheckedActivity[];
  try {
    activities = (await validateCampaign(database, JSON.parse(row.document) as unknown)).activities;
  } catch (error) {
    // The workspace changed under a run (a table it reads was removed): nothing of it can execute.
    await settle(database, runId, options.owner, 'failed', (error as Error).message);
    return;
  }
  const { schema } = await requireSchema(database);
  const tasks = new Map<string, Task>();
  for (const t of await database.db
    .selectFrom('run_tasks')
    .select(['activity', 'state', 'wake_at', 'released'])
    .where('run_id', '=', runId)
    .execute()) {
    tasks.set(t.activity, {
      state: t.state as TaskState,
      wakeAt: t.wake_at === null ? null : Number(t.wake_at),
      released: Boolean(t.released),
    });
  }
  // A task left running (its process died) or failed is executed again: what it wrote half-way goes.
  for (const [activity, task] of tasks) {
    if (task.state === 'running' || task.state === 'failed') {
      await discardOutputs(database, runId, activity);
      await setTask(activity, 'pending', { error: null });
      task.state = 'pending';
    }
  }
  const fired = new Map<string, WorkingTable>();
  for (const t of await database.db
    .selectFrom('run_transitions')
    .selectAll()
    .where('run_id', '=', runId)
    .execute()) {
    const dimension = transitionDimension(schema, t.dimension ?? '');
    if (!dimension || !t.fired) continue;
    fired.set(portName(t.activity, t.port), {
      name: t.working_table,
      dimension,
      columns: JSON.parse(t.columns ?? '[]') as ExtraColumn[],
      count: Number(t.row_count),
    });
  }

  const inFlight = new Map<string, Promise<void>>();
  let failure: string | null = null;
  const settledState = (state: TaskState) => state === 'done' || state === 'skipped';
  const execute = async (activity: CheckedActivity, task: Task): Promise<void> => {
    const refs = activity.inputs.map((i) => portName(i.activity, i.port));
    const inputs = refs.map((ref) => fired.get(ref)!);
    const resuming = task.state === 'waiting';
    task.state = 'running';
    await setTask(activity.id, 'running', { error: null, start: !resuming });
    if (!resuming)
      await writeRunLog(database, runId, activity.id, 'debug', 'started', {
        event: 'task.start',
        rows: inputs.reduce((sum, t) => sum + t.count, 0),
      });
    const started = performance.now();
    const env = {
      database,
      schema,
      run,
      clock: options.clock,
      notifier: options.notifier,
      activity: activity.id,
      inputs,
      inputRefs: refs,
      wakeAt: task.wakeAt,
      async record(port: string, table: WorkingTable, fires: boolean) {
        await assertOwned();
        await database.db
          .insertInto('run_transitions')
          .values({
            run_id: runId,
            activity: activity.id,
            port,
            working_table: table.name,
            dimension: table.dimension.name,
            row_count: table.count,
            columns: JSON.stringify(table.columns),
            fired: database.dialect.storedBoolean(fires),
            created_at: new Date().toISOString(),
          })
          .execute();
        if (fires) fired.set(portName(activity.id, port), table);
      },
    };
    try {
      if (!activity.definition.execute)
        throw new Error(`${activity.definition.type} cannot run yet (it is validated, but not executable)`);
      await activity.definition.execute(activity.config, taskContext(env));
      task.state = 'done';
      await setTask(activity.id, 'done');
      await writeRunLog(database, runId, activity.id, 'info', 'done', {
        event: 'task.done',
        ms: Math.round(performance.now() - started),
      });
    } catch (error) {
      if (error instanceof TaskParked) {
        task.state = error.state;
        task.wakeAt = error.wakeAt;
        await setTask(activity.id, error.state, { finish: false });
        await writeRunLog(database, runId, activity.id, 'info', error.message, {
          event: `task.${error.state}`,
          ...(error.wakeAt !== null && { wakeAt: new Date(error.wakeAt).toISOString() }),
        });
        return;
      }
      if (error instanceof RunTakenOver) return;
      const message = (error as Error).message;
      task.state = 'failed';
      failure ??= `${activity.id}: ${message}`;
      await setTask(activity.id, 'failed', { error: message });
      await writeRunLog(database, runId, activity.id, 'error', message, { event: 'task.failed' });
    }
  };

  for (;;) {
    const { status: control, lease_owner: owner } = await database.db
      .selectFrom('runs')
      .select(['status', 'lease_owner'])
      .where('id', '=', runId)
      .executeTakeFirstOrThrow();
    // Taken over by another process: let the tasks in flight notice it, and leave the run alone.
    if (owner !== options.owner) {
      await Promise.allSettled(inFlight.values());
      return;
    }
    if (control === 'running' && failure === null) {
      // Activities are in graph order: skipping one settles it for those after it in the same pass.
      for (const activity of activities) {
        const task = tasks.get(activity.id)!;
        if (inFlight.has(activity.id)) continue;
        const due = task.state === 'waiting' && task.wakeAt !== null && options.clock.now() >= task.wakeAt;
        const ready =
          task.state === 'pending' &&
          activity.inputs.every((i) => settledState(tasks.get(i.activity)!.state));
        if (!due && !ready) continue;
        if (ready) {
          const missing = activity.inputs.some((i) => !fired.has(portName(i.activity, i.port)));
          if (activity.disabled || missing) {
            task.state = 'skipped';
            await setTask(activity.id, 'skipped');
            await writeRunLog(
              database,
              runId,
              activity.id,
              'info',
              activity.disabled ? 'disabled: skipped with what follows it' : 'an input did not fire: skipped',
              { event: 'task.skipped' },
            );
            continue;
          }
          if (activity.pause && !task.released) {
            task.state = 'paused';
            await setTask(activity.id, 'paused', { finish: false });
            await writeRunLog(database, runId, activity.id, 'info', 'breakpoint: paused before running', {
              event: 'task.paused',
            });
            continue;
          }
        }
        if (inFlight.size >= options.concurrency) break;
        inFlight.set(
          activity.id,
          execute(activity, task).finally(() => inFlight.delete(activity.id)),
        );
      }
    }
    if (inFlight.size === 0) {
      const states = [...tasks.values()].map((t) => t.state);
      if (failure !== null) return settle(database, runId, options.owner, 'failed', failure);
      if (control === 'stopping') return settle(database, runId, options.owner, 'stopped', null);
      if (control === 'pausing') return settle(database, runId, options.owner, 'paused', null);
      // A send waiting for its confirmation waits like a timer: confirming it makes its task due.
      if (states.includes('waiting') || states.includes('needs-confirmation'))
        return settle(database, runId, options.owner, 'waiting', null);
      if (states.includes('paused')) return settle(database, runId, options.owner, 'paused', null);
      return settle(database, runId, options.owner, 'done', null);
    }
    await Promise.race([...inFlight.values(), delay(CONTROL_POLL_MS)]);
  }
}

/**
 * A run's variables: the parameters its signal gave (defaults filled in when it was triggered); a test run
 * of a signal campaign uses each parameter's test value, else its default.
 */
function runVariables(
  document: Record<string, unknown>,
  mode: string,
  stored: string | null,
): Record<string, Value> {
  if (stored !== null) return JSON.parse(stored) as Record<string, Value>;
  if (mode !== 'test') return {};
  return Object.fromEntries(
    signalParameters(document).flatMap((p) => {
      const value = (p.testValue ?? p.default) as Value | undefined;
      return value === undefined ? [] : [[p.name, value]];
    }),
  );
}

class RunTakenOver extends Error {
  constructor() {
    super('the run was taken over by another process');
  }
}

/** The run's final state for now; a settled run holds no lease, so any process may resume it. */
async function settle(
  database: Database,
  run: string,
  owner: string,
  status: string,
  error: string | null,
): Promise<void> {
  const final = status === 'done' || status === 'failed' || status === 'stopped';
  await database.db
    .updateTable('runs')
    .set({
      status,
      error,
      finished_at: final ? new Date().toISOString() : null,
      lease_owner: null,
      lease_until: null,
    })
    .where('id', '=', run)
    .where('lease_owner', '=', owner)
    .execute();
  await writeRunLog(database, run, null, status === 'failed' ? 'error' : 'info', `run ${status}`, {
    event: `run.${status}`,
  });
}

interface TaskChanges {
  error?: string | null;
  /** false: a waiting task carrying on keeps its first start time and attempt. */
  start?: boolean;
  /** false: a parked task (waiting, paused) is not finished. */
  finish?: boolean;
}

export async function writeTask(
  database: Database,
  run: string,
  activity: string,
  state: TaskState,
  options: TaskChanges = {},
): Promise<void> {
  const at = new Date().toISOString();
  const starting = state === 'running' && options.start !== false;
  const finishing = state !== 'running' && state !== 'pending' && options.finish !== false;
  await database.db
    .updateTable('run_tasks')
    .set((eb) => ({
      state,
      ...(options.error !== undefined ? { error: options.error } : {}),
      ...(starting ? { started_at: at, attempts: eb('attempts', '+', 1) } : {}),
      ...(finishing ? { finished_at: at } : {}),
      ...(state === 'pending' ? { started_at: null, finished_at: null } : {}),
    }))
    .where('run_id', '=', run)
    .where('activity', '=', activity)
    .execute();
}

/**
 * Forgets what a task wrote: its transitions, and the working tables no other transition of the run
 * shares (an activity that forwards its input records the input's table as its own output).
 */
export async function discardOutputs(database: Database, run: string, activity?: string): Promise<void> {
  const all = await database.db
    .selectFrom('run_transitions')
    .select(['activity', 'working_table'])
    .where('run_id', '=', run)
    .execute();
  const mine = all.filter((t) => activity === undefined || t.activity === activity);
  const kept = new Set(all.filter((t) => !mine.includes(t)).map((t) => t.working_table));
  for (const table of new Set(mine.map((t) => t.working_table)))
    if (!kept.has(table)) await dropWorkingTable(database, table);
  let removal = database.db.deleteFrom('run_transitions').where('run_id', '=', run);
  if (activity !== undefined) removal = removal.where('activity', '=', activity);
  await removal.execute();
}
