import { randomUUID } from 'node:crypto';
import path from 'node:path';
import type { CheckedActivity } from '../campaigns/document.ts';
import { getCampaignDocument, validateCampaign } from '../campaigns/store.ts';
import type { Database } from '../db/database.ts';
import { NotFoundError } from '../errors.ts';
import { checkRule } from '../rules/check-rule.ts';
import { resolveParameters } from '../rules/rule-service.ts';
import { ruleSql } from '../rules/rule-sql.ts';
import { SqlScope } from '../rules/sql-scope.ts';
import { requireSchema } from '../schema/store.ts';
import { startWorker } from '../workers/start-worker.ts';
import type { ExecuteContext } from '../activities/types.ts';
import { portName, runStatus, type RunStatus, type TaskState } from './run-inspection.ts';
import { createWorkingTable, workingTableRef, type WorkingTable } from './working-tables.ts';

/**
 * Runs a campaign: every activity is a task, run once all its inputs are done, in the graph's order.
 * Each output becomes a working table whose count is recorded on the run's transitions, so every count
 * can be inspected and its rows previewed. An input whose transition did not fire (an empty segment with
 * skip-empty, a disabled activity) skips the task and everything after it. A failing task fails the run
 * and names the error; what ran before it stays inspectable.
 *
 * Today runs are test runs, executed one task after another (SQLite has one writer anyway), in the
 * calling process or, when started over HTTP, in a worker thread. Reading a run is run-inspection.ts;
 * schedules, live runs, durable waits and parallel branches come with the lifecycle.
 */
export async function startRun(
  database: Database,
  campaignId: string,
  options: {
    /** `test` (the default) runs the draft without sending or saving; `live` does everything. */
    mode?: 'test' | 'live';
    now?: number;
    /** Execute in a worker thread with its own connection, so the caller's event loop stays free. */
    inWorker?: boolean;
  } = {},
): Promise<{ run: string; finished: Promise<RunStatus> }> {
  const document = await getCampaignDocument(database, campaignId);
  const checked = await validateCampaign(database, document);
  const run = randomUUID();
  const now = options.now ?? Date.now();
  const startedAt = new Date().toISOString();
  await database.db
    .insertInto('runs')
    .values({
      id: run,
      campaign_id: campaignId,
      mode: options.mode ?? 'test',
      trigger: 'manual',
      status: 'running',
      document: JSON.stringify(document),
      now_ms: now,
      error: null,
      started_at: startedAt,
      finished_at: null,
    })
    .execute();
  await database.db
    .insertInto('run_tasks')
    .values(
      checked.activities.map((a) => ({
        run_id: run,
        activity: a.id,
        state: 'pending',
        error: null,
        started_at: null,
        finished_at: null,
      })),
    )
    .execute();
  const executed = options.inWorker
    ? executeInWorker(database, run)
    : execute(database, run, checked.activities, now);
  const finished = executed.then(() => runStatus(database, run));
  return { run, finished };
}

/** Executes a run already recorded (its document and clock are on the run): what a run worker does. */
export async function executeRun(database: Database, run: string): Promise<void> {
  const row = await database.db
    .selectFrom('runs')
    .select(['document', 'now_ms'])
    .where('id', '=', run)
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`No run ${run}.`);
  const checked = await validateCampaign(database, JSON.parse(row.document) as unknown);
  await execute(database, run, checked.activities, Number(row.now_ms));
}

/**
 * Runs `executeRun` in a worker thread on its own connection: a test run over millions of rows then never
 * stalls the server (better-sqlite3 runs statements synchronously). A worker that dies fails the run.
 */
function executeInWorker(database: Database, run: string): Promise<void> {
  const config = {
    dataDir: database.dataDir,
    databaseUrl: database.kind === 'postgres' ? database.location : undefined,
  };
  const worker = startWorker(new URL('./run-worker.ts', import.meta.url), { config, run });
  return new Promise<void>((resolve) => {
    let failure: string | undefined;
    worker.on('error', (error) => (failure = error.message));
    worker.on('exit', (code) => {
      if (code === 0 && failure === undefined) return resolve();
      void finish(
        database,
        run,
        'failed',
        `the run worker stopped: ${failure ?? `exit code ${code}`}`,
      ).finally(resolve);
    });
  });
}

async function setTask(
  database: Database,
  run: string,
  activity: string,
  state: TaskState,
  error: string | null = null,
): Promise<void> {
  const at = new Date().toISOString();
  await database.db
    .updateTable('run_tasks')
    .set({ state, error, ...(state === 'running' ? { started_at: at } : { finished_at: at }) })
    .where('run_id', '=', run)
    .where('activity', '=', activity)
    .execute();
}

async function log(
  database: Database,
  run: string,
  activity: string | null,
  level: string,
  message: string,
): Promise<void> {
  await database.db
    .insertInto('run_logs')
    .values({ run_id: run, activity, level, message, at: new Date().toISOString() })
    .execute();
}

async function execute(
  database: Database,
  run: string,
  activities: CheckedActivity[],
  now: number,
): Promise<void> {
  const { schema } = await requireSchema(database);
  const { campaign_id: campaign, mode } = await database.db
    .selectFrom('runs')
    .select(['campaign_id', 'mode'])
    .where('id', '=', run)
    .executeTakeFirstOrThrow();
  const fired = new Map<string, WorkingTable>();
  let tables = 0;
  const tablePrefix = `r${run.replaceAll('-', '').slice(0, 12)}`;
  try {
    for (const activity of activities) {
      const refs = activity.inputs.map((i) => portName(i.activity, i.port));
      const inputs = refs.map((ref) => fired.get(ref));
      if (activity.disabled || inputs.some((t) => t === undefined)) {
        await setTask(database, run, activity.id, 'skipped');
        await log(
          database,
          run,
          activity.id,
          'info',
          activity.disabled ? 'disabled: skipped with what follows it' : 'an input did not fire: skipped',
        );
        continue;
      }
      if (!activity.definition.execute) {
        throw Object.assign(
          new Error(
            `${activity.definition.type} cannot run yet (it is validated, but its execution is not built)`,
          ),
          { activity: activity.id },
        );
      }
      await setTask(database, run, activity.id, 'running');
      const record = async (port: string, table: WorkingTable) => {
        await database.db
          .insertInto('run_transitions')
          .values({
            run_id: run,
            activity: activity.id,
            port,
            working_table: table.name,
            dimension: table.dimension.name,
            row_count: table.count,
            columns: JSON.stringify(table.columns),
            created_at: new Date().toISOString(),
          })
          .execute();
      };
      const ctx: ExecuteContext = {
        database,
        schema,
        mode: mode === 'live' ? 'live' : 'test',
        campaign,
        activity: activity.id,
        now,
        inputs: inputs as WorkingTable[],
        inputRefs: refs,
        filesDir: path.join(database.dataDir, 'files'),
        async output(port, dimension, source, options = {}) {
          const table = await createWorkingTable(
            database,
            `${tablePrefix}_${++tables}`,
            dimension,
            source,
            options.columns,
          );
          await record(port, table);
          if (options.activate?.(table.count) ?? true) fired.set(portName(activity.id, port), table);
          return table;
        },
        async forward(port, table) {
          await record(port, table);
          fired.set(portName(activity.id, port), table);
        },
        rule(table, rule, over) {
          const checked = checkRule(schema, table, rule);
          const scope = SqlScope.root(
            { dialect: database.dialect, schema, now, variables: resolveParameters(checked.parameters, {}) },
            table,
            over ? workingTableRef(database, over.name) : undefined,
          );
          return { scope, where: ruleSql(checked.rule, scope) };
        },
        ref: (table) => workingTableRef(database, table.name),
        log: (message) => log(database, run, activity.id, 'info', message),
      };
      try {
        await activity.definition.execute(activity.config, ctx);
      } catch (error) {
        throw Object.assign(error as Error, { activity: activity.id });
      }
      await setTask(database, run, activity.id, 'done');
    }
    await finish(database, run, 'done', null);
  } catch (error) {
    const failed = (error as { activity?: string }).activity;
    const message = (error as Error).message;
    if (failed) {
      await setTask(database, run, failed, 'failed', message);
      await log(database, run, failed, 'error', message);
    }
    await finish(database, run, 'failed', failed ? `${failed}: ${message}` : message);
  }
}

async function finish(database: Database, run: string, status: string, error: string | null): Promise<void> {
  await database.db
    .updateTable('runs')
    .set({ status, error, finished_at: new Date().toISOString() })
    .where('id', '=', run)
    .execute();
}
