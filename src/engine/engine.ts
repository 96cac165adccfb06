import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import type { Worker } from 'node:worker_threads';
import { getCampaignDocument, getVersionDocument, validateCampaign } from '../campaigns/store.ts';
import { DEFAULT_RUN_CONCURRENCY } from '../config.ts';
import type { Database } from '../db/database.ts';
import { NotFoundError, UserError } from '../errors.ts';
import { startWorker } from '../workers/start-worker.ts';
import { systemClock, type Clock } from './clock.ts';
import { discardOutputs, driveRun, writeTask } from './run-driver.ts';
import { runStatus, type RunStatus } from './run-inspection.ts';
import { writeRunLog } from './run-log.ts';
import { cancelQueued } from '../delivery/queue.ts';
import type { AlertNotifier } from './task-context.ts';

/** How long a claim on a run holds without being renewed, and how often the engine renews its claims. */
const LEASE_MS = 120_000;
const LEASE_RENEW_MS = 20_000;

export interface EngineOptions {
  /** The runs' clock (waits, a run's "now"); the system clock unless a test moves time itself. */
  clock?: Clock;
  concurrency?: number;
  /**
   * Execute runs in worker threads with their own connection (the server: a run over millions of rows
   * never stalls HTTP, better-sqlite3 being synchronous), or in this thread (the CLI, tests).
   */
  inWorker?: boolean;
  notifier?: AlertNotifier;
}

export interface RunRequest {
  mode?: 'test' | 'live';
  /** The run's "now" (epoch ms); the clock's time by default. */
  now?: number;
  trigger?: 'manual' | 'schedule' | 'signal';
  /** The published version a live run executes. */
  version?: number;
  /** A signal's parameters. */
  variables?: Record<string, unknown>;
  /**
   * The run's id, when its maker needs the run made once only (a scheduled launch: the id comes from the
   * campaign, version and slot, so two schedulers launching the same slot make one run).
   */
  id?: string;
}

export interface StartedRun {
  run: string;
  /** Settles when this process stops executing the run (done, failed, stopped, paused or waiting). */
  finished: Promise<RunStatus>;
}

/**
 * Starts runs and controls them: stop, pause, resume, restart; and, from `sweep`, drives again the runs
 * whose timers are due and takes over runs whose process died (their lease lapsed). Every decision goes
 * through the `runs` row (a conditional UPDATE claims a run), so a CLI and a server on one database, or
 * several servers on PostgreSQL, never execute one run twice at once.
 */
export class Engine {
  /** Names this process in the leases it holds. */
  readonly owner = `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly clock: Clock;
  private readonly driving = new Map<string, Promise<void>>();
  private readonly timers: NodeJS.Timeout[] = [];
  private readonly workers = new Set<Worker>();
  private closing = false;

  constructor(
    private readonly database: Database,
    private readonly options: EngineOptions = {},
  ) {
    this.clock = options.clock ?? systemClock;
    const renew = setInterval(() => void this.renewLeases(), LEASE_RENEW_MS);
    renew.unref();
    this.timers.push(renew);
  }

  /**
   * Starts a run of a campaign in this process: `test` (the default) of its current document, or `live`
   * — of a published version when given, else of the current document.
   */
  async start(campaignId: string, options: RunRequest = {}): Promise<StartedRun> {
    const run = await this.createRun(campaignId, options, {
      owner: this.owner,
      until: Date.now() + LEASE_MS,
    });
    return { run, finished: this.drive(run) };
  }

  /**
   * Records a run as `queued` for whichever process takes it first (its sweep, or `take`): what the
   * lifecycle and the scheduler do, so the CLI can publish while a server executes, and the workers
   * sharing a PostgreSQL database spread the runs between them.
   */
  async enqueue(campaignId: string, options: RunRequest = {}): Promise<string> {
    return this.createRun(campaignId, options, null);
  }

  /** Queues a run unless one with `options.id` exists already; whether it did. */
  async enqueueOnce(campaignId: string, options: RunRequest & { id: string }): Promise<boolean> {
    const exists = await this.database.db
      .selectFrom('runs')
      .select('id')
      .where('id', '=', options.id)
      .executeTakeFirst();
    if (exists) return false;
    try {
      await this.createRun(campaignId, options, null);
      return true;
    } catch (error) {
      // Another scheduler made it between the look and the insert: the key says it exists.
      if (
        await this.database.db.selectFrom('runs').select('id').where('id', '=', options.id).executeTakeFirst()
      )
        return false;
      throw error;
    }
  }

  /** Executes a queued run in this process, if no other took it first. */
  async take(run: string): Promise<StartedRun | undefined> {
    if (this.driving.has(run) || !(await this.tryClaim(run, ['queued']))) return undefined;
    return { run, finished: this.drive(run) };
  }

  private async createRun(
    campaignId: string,
    options: RunRequest,
    lease: { owner: string; until: number } | null,
  ): Promise<string> {
    const document =
      options.version === undefined
        ? await getCampaignDocument(this.database, campaignId)
        : await getVersionDocument(this.database, campaignId, options.version);
    const checked = await validateCampaign(this.database, document);
    const run = options.id ?? randomUUID();
    const mode = options.mode ?? 'test';
    await this.database.db.transaction().execute(async (trx) => {
      await trx
        .insertInto('runs')
        .values({
          id: run,
          campaign_id: campaignId,
          mode,
          trigger: options.trigger ?? 'manual',
          status: lease ? 'running' : 'queued',
          document: JSON.stringify(document),
          now_ms: options.now ?? this.clock.now(),
          error: null,
          started_at: new Date().toISOString(),
          finished_at: null,
          lease_owner: lease?.owner ?? null,
          lease_until: lease?.until ?? null,
          version: options.version ?? null,
          variables: options.variables ? JSON.stringify(options.variables) : null,
        })
        .execute();
      await trx
        .insertInto('run_tasks')
        .values(
          checked.activities.map((a) => ({
            run_id: run,
            activity: a.id,
            state: 'pending',
            error: null,
            started_at: null,
            finished_at: null,
            wake_at: null,
          })),
        )
        .execute();
    });
    await writeRunLog(this.database, run, null, 'info', `${mode} run ${lease ? 'started' : 'queued'}`, {
      event: lease ? 'run.start' : 'run.queued',
    });
    return run;
  }

  /**
   * Stops a run: tasks running finish, no other starts, and its messages not yet sent are not sent
   * (`excluded`, reason `stopped`); a stopped run can only be restarted.
   */
  async stop(run: string): Promise<RunStatus> {
    const status = await this.statusOf(run);
    await cancelQueued(this.database, run);
    if (status === 'running' || status === 'pausing') await this.setStatus(run, [status], 'stopping');
    else if (status === 'waiting' || status === 'paused' || status === 'failed' || status === 'queued')
      await this.settleStopped(run, status);
    else if (status !== 'stopping')
      throw new UserError(`Run ${run} is ${status}: there is nothing to stop.`, { status: 409 });
    return this.settled(run);
  }

  /** Pauses a run: tasks running finish, no other starts until it is resumed. */
  async pause(run: string): Promise<RunStatus> {
    const status = await this.statusOf(run);
    if (status === 'running') await this.setStatus(run, ['running'], 'pausing');
    else if (status === 'waiting') await this.setStatus(run, ['waiting'], 'paused');
    else if (status !== 'pausing' && status !== 'paused')
      throw new UserError(`Run ${run} is ${status}: only a running or waiting run can be paused.`, {
        status: 409,
      });
    return this.settled(run);
  }

  /**
   * Resumes a paused or failed run where it stood: breakpoints reached are let through, failed tasks are
   * executed again (what they wrote is discarded first), waits keep their times.
   */
  async resume(run: string): Promise<StartedRun> {
    const status = await this.statusOf(run);
    if (status !== 'paused' && status !== 'failed')
      throw new UserError(
        `Run ${run} is ${status}: only a paused or failed run can be resumed${status === 'stopped' || status === 'done' ? ' (restart it to run it again)' : ''}.`,
        { status: 409 },
      );
    await this.claim(run, [status]);
    await this.database.db
      .updateTable('run_tasks')
      .set({ state: 'pending', released: this.database.dialect.storedBoolean(true), finished_at: null })
      .where('run_id', '=', run)
      .where('state', '=', 'paused')
      .execute();
    await this.database.db.updateTable('runs').set({ error: null }).where('id', '=', run).execute();
    await writeRunLog(this.database, run, null, 'info', 'run resumed', { event: 'run.resume' });
    return { run, finished: this.drive(run) };
  }

  /** Runs everything again from the start, on the same document and "now"; earlier results are dropped. */
  async restart(run: string): Promise<StartedRun> {
    const status = await this.statusOf(run);
    const settledStates = ['done', 'failed', 'stopped', 'paused', 'waiting'];
    if (!settledStates.includes(status))
      throw new UserError(`Run ${run} is ${status}: stop it before restarting it.`, { status: 409 });
    await this.claim(run, [status]);
    await discardOutputs(this.database, run);
    await this.database.db
      .updateTable('run_tasks')
      .set({
        state: 'pending',
        error: null,
        started_at: null,
        finished_at: null,
        wake_at: null,
        released: this.database.dialect.storedBoolean(false),
      })
      .where('run_id', '=', run)
      .execute();
    await this.database.db
      .updateTable('runs')
      .set({ error: null, finished_at: null, purged_at: null })
      .where('id', '=', run)
      .execute();
    await writeRunLog(this.database, run, null, 'info', 'run restarted', { event: 'run.restart' });
    return { run, finished: this.drive(run) };
  }

  /**
   * Takes the queued runs, drives again the runs whose timers are due, and takes over the runs whose
   * executing process died.
   * The server calls it every few seconds; a test with a manual clock calls it after moving time.
   * Returns the runs it started driving.
   */
  async sweep(): Promise<StartedRun[]> {
    const now = this.clock.now();
    const due = await this.database.db
      .selectFrom('runs')
      .select('id')
      .where('status', '=', 'waiting')
      .where((eb) =>
        eb.exists(
          eb
            .selectFrom('run_tasks')
            .select('run_tasks.activity')
            .whereRef('run_tasks.run_id', '=', 'runs.id')
            .where('run_tasks.state', '=', 'waiting')
            .where('run_tasks.wake_at', '<=', now),
        ),
      )
      .execute();
    const orphaned = await this.database.db
      .selectFrom('runs')
      .select(['id', 'status'])
      .where('status', 'in', ['running', 'stopping', 'pausing'])
      .where('lease_until', '<', Date.now())
      .execute();
    const queued = await this.database.db
      .selectFrom('runs')
      .select('id')
      .where('status', '=', 'queued')
      .orderBy('started_at')
      .execute();
    const started: StartedRun[] = [];
    for (const { id } of queued) {
      const taken = await this.take(id);
      if (taken) started.push(taken);
    }
    for (const { id } of due) {
      if (this.driving.has(id) || !(await this.tryClaim(id, ['waiting']))) continue;
      started.push({ run: id, finished: this.drive(id) });
    }
    for (const { id, status } of orphaned) {
      if (this.driving.has(id) || !(await this.tryClaim(id, [status], status))) continue;
      await writeRunLog(
        this.database,
        id,
        null,
        'warning',
        'the process executing this run stopped: taken over',
        {
          event: 'run.takeover',
        },
      );
      started.push({ run: id, finished: this.drive(id) });
    }
    return started;
  }

  /** Sweeps now and every `intervalMs` (the server). */
  startSweeping(intervalMs = 2_000, onError: (error: unknown) => void = () => {}): void {
    const tick = () => void this.sweep().catch(onError);
    tick();
    const timer = setInterval(tick, intervalMs);
    timer.unref();
    this.timers.push(timer);
  }

  /** Stops the timers and waits for the runs this process executes to settle or stop. */
  /**
   * Stops the timers and hands back the runs executing in worker threads: the workers stop, the runs'
   * leases are released, and the next sweep of any process (this server's next start, another server)
   * takes them over, executing again the tasks that were cut short. Runs executing in this thread (the
   * CLI, tests) are waited for.
   */
  async close(): Promise<void> {
    this.closing = true;
    for (const timer of this.timers) clearInterval(timer);
    await Promise.all([...this.workers].map((worker) => worker.terminate()));
    await Promise.allSettled(this.driving.values());
    await this.database.db
      .updateTable('runs')
      .set({ lease_until: 0 })
      .where('lease_owner', '=', this.owner)
      .where('status', 'in', ['running', 'stopping', 'pausing'])
      .execute();
  }

  private drive(run: string): Promise<RunStatus> {
    const concurrency = this.options.concurrency ?? DEFAULT_RUN_CONCURRENCY;
    const driving = (
      this.options.inWorker
        ? this.driveInWorker(run, concurrency)
        : driveRun(this.database, run, {
            owner: this.owner,
            clock: this.clock,
            concurrency,
            notifier: this.options.notifier,
          })
    )
      .catch((error: unknown) => this.fail(run, (error as Error).message))
      .finally(() => this.driving.delete(run));
    this.driving.set(run, driving);
    return driving.then(() => runStatus(this.database, run));
  }

  /** A worker thread with its own connection executes the run; a worker that dies fails it. */
  private driveInWorker(run: string, concurrency: number): Promise<void> {
    const config = {
      dataDir: this.database.dataDir,
      databaseUrl: this.database.kind === 'postgres' ? this.database.location : undefined,
    };
    const worker = startWorker(new URL('./run-worker.ts', import.meta.url), {
      config,
      run,
      concurrency,
      owner: this.owner,
    });
    this.workers.add(worker);
    return new Promise<void>((resolve, reject) => {
      let failure: string | undefined;
      worker.on('error', (error) => (failure = error.message));
      worker.on('exit', (code) => {
        this.workers.delete(worker);
        // Stopped by close(): the run is handed back, not failed.
        if ((code === 0 && failure === undefined) || this.closing) resolve();
        else reject(new Error(`the run worker stopped: ${failure ?? `exit code ${code}`}`));
      });
    });
  }

  private async fail(run: string, message: string): Promise<void> {
    await this.database.db
      .updateTable('runs')
      .set({
        status: 'failed',
        error: message,
        finished_at: new Date().toISOString(),
        lease_owner: null,
        lease_until: null,
      })
      .where('id', '=', run)
      .where('lease_owner', '=', this.owner)
      .execute();
    await writeRunLog(this.database, run, null, 'error', message, { event: 'run.failed' });
  }

  private async renewLeases(): Promise<void> {
    if (this.driving.size === 0) return;
    await this.database.db
      .updateTable('runs')
      .set({ lease_until: Date.now() + LEASE_MS })
      .where('id', 'in', [...this.driving.keys()])
      .where('lease_owner', '=', this.owner)
      .execute();
  }

  /** Takes a run in one of `from` for this process; false when another process got it first. */
  private async tryClaim(run: string, from: string[], keepStatus?: string): Promise<boolean> {
    const result = await this.database.db
      .updateTable('runs')
      .set({
        status: keepStatus ?? 'running',
        lease_owner: this.owner,
        lease_until: Date.now() + LEASE_MS,
        finished_at: null,
      })
      .where('id', '=', run)
      .where('status', 'in', from)
      .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', Date.now())]))
      .executeTakeFirst();
    return Number(result.numUpdatedRows) === 1;
  }

  private async claim(run: string, from: string[]): Promise<void> {
    if (!(await this.tryClaim(run, from)))
      throw new UserError(`Run ${run} changed meanwhile (another process acts on it); try again.`, {
        status: 409,
      });
  }

  private async statusOf(run: string): Promise<string> {
    const row = await this.database.db
      .selectFrom('runs')
      .select('status')
      .where('id', '=', run)
      .executeTakeFirst();
    if (!row) throw new NotFoundError(`No run ${run}.`);
    return row.status;
  }

  private async setStatus(run: string, from: string[], to: string): Promise<void> {
    await this.database.db
      .updateTable('runs')
      .set({ status: to })
      .where('id', '=', run)
      .where('status', 'in', from)
      .execute();
    await writeRunLog(this.database, run, null, 'info', `run ${to}`, { event: `run.${to}` });
  }

  /** A run that no process executes is stopped at once; its waiting and paused tasks will not run. */
  private async settleStopped(run: string, from: string): Promise<void> {
    await this.database.db
      .updateTable('runs')
      .set({ status: 'stopped', finished_at: new Date().toISOString() })
      .where('id', '=', run)
      .where('status', '=', from)
      .execute();
    for (const state of ['waiting', 'paused'] as const) {
      const rows = await this.database.db
        .selectFrom('run_tasks')
        .select('activity')
        .where('run_id', '=', run)
        .where('state', '=', state)
        .execute();
      for (const { activity } of rows) await writeTask(this.database, run, activity, 'skipped');
    }
    await writeRunLog(this.database, run, null, 'info', 'run stopped', { event: 'run.stopped' });
  }

  /** The run's status once this process no longer executes it (at once when another process does). */
  private async settled(run: string): Promise<RunStatus> {
    await this.driving.get(run);
    return runStatus(this.database, run);
  }
}
