import type { Command } from 'commander';
import { setTimeout as delay } from 'node:timers/promises';
import { Engine, type StartedRun } from '../../engine/engine.ts';
import {
  DEFAULT_WATCH_INTERVAL_MS,
  watchRun,
  type DeliveryProgress,
  type RunEvent,
} from '../../engine/run-events.ts';
import {
  LOG_LEVELS,
  runLogs,
  runStatus,
  type RunLogLine,
  type RunStatus,
} from '../../engine/run-inspection.ts';
import { listCampaignRuns, RUN_STATUSES, type RunSummary } from '../../engine/run-lists.ts';
import { UserError } from '../../errors.ts';
import { withDatabase } from '../context.ts';
import { createOutput, type Output } from '../output.ts';

/**
 * `baton status <run> [--watch]`, `baton runs list <campaign>` and `baton runs
 * logs|stop|pause|resume|restart <run>`: following and controlling a run from a terminal. A resume or
 * restart executes the run in this process and returns when it settles; a stop or pause asked while
 * another process (a running server) executes the run is carried out by that process, and the command
 * waits for it.
 */

/** The run's graph with the count on every output, one activity a line. */
export function describeRun(status: RunStatus): string {
  const lines = Object.entries(status.tasks).map(([activity, state]) => {
    const counts = Object.entries(status.counts)
      .filter(([name]) => name === activity || name.startsWith(`${activity}.`))
      .map(([name, n]) => `${name} ${n.toLocaleString('en-US')}`);
    return `  ${activity.padEnd(24)} ${state.padEnd(8)} ${counts.join(', ')}`.trimEnd();
  });
  const kind = status.mode === 'live' ? 'Live run' : 'Test run';
  return `${kind} ${status.run} of ${status.campaign}: ${status.status}${status.error ? ` (${status.error})` : ''}\n${lines.join('\n')}`;
}

/** Prints a run's status; a failed run makes the command exit 1. */
export function printRun(out: Output, status: RunStatus): void {
  out.result(status, describeRun(status));
  if (status.status === 'failed') process.exitCode = 1;
}

const TRANSIENT = new Set(['stopping', 'pausing']);

export function runCommands(program: Command): void {
  program
    .command('status <run>')
    .description('print a run: its status, the state of every task and the count on every output')
    .option('--json', 'print { run, status, counts, tasks, … } as JSON (with --watch: one event a line)')
    .option('--watch', 'follow the run until it ends: exit 0 when done, 1 when failed or stopped')
    .option(
      '--interval <ms>',
      'with --watch, how often the database is read',
      String(DEFAULT_WATCH_INTERVAL_MS),
    )
    .action(async (run: string, opts: { json?: boolean; watch?: boolean; interval: string }) => {
      if (opts.watch) return watch(run, wholeNumber('--interval', opts.interval), opts.json === true);
      printRun(createOutput(opts.json === true), await withDatabase((database) => runStatus(database, run)));
    });

  const runs = program.command('runs').description('follow and control runs');
  runs
    .command('list <campaign>')
    .description(
      "list a campaign's runs, newest first, with the messages each sent, failed, bounced and excluded",
    )
    .option('--mode <mode>', 'only test or live runs')
    .option('--status <status>', `only the runs in this status: ${RUN_STATUSES.join(', ')}`)
    .option('--limit <n>', 'how many runs', '20')
    .option('--offset <n>', 'how many of the newest runs to leave out', '0')
    .option('--json', 'print { total, runs: [...] } as JSON')
    .action(
      async (
        campaign: string,
        opts: { mode?: string; status?: string; limit: string; offset: string; json?: boolean },
      ) => {
        if (opts.mode !== undefined && opts.mode !== 'test' && opts.mode !== 'live')
          throw new UserError(`--mode takes test or live, not "${opts.mode}".`);
        if (opts.status !== undefined && !(RUN_STATUSES as readonly string[]).includes(opts.status))
          throw new UserError(`--status takes one of ${RUN_STATUSES.join(', ')}, not "${opts.status}".`);
        const listed = await withDatabase((database) =>
          listCampaignRuns(database, campaign, {
            limit: wholeNumber('--limit', opts.limit),
            offset: wholeNumber('--offset', opts.offset, 0),
            mode: opts.mode as 'test' | 'live' | undefined,
            status: opts.status as (typeof RUN_STATUSES)[number] | undefined,
          }),
        );
        createOutput(opts.json === true).result(listed, describeRuns(campaign, listed));
      },
    );
  runs
    .command('logs <run>')
    .description("print a run's log lines, oldest first")
    .option('--level <level>', `the lowest level shown: ${LOG_LEVELS.join(', ')}`, 'info')
    .option('--activity <activity>', 'only the lines of this activity')
    .option('--text <text>', 'only the lines containing this text')
    .option('--json', 'print { logs: [...] } as JSON')
    .action(
      async (run: string, opts: { level: string; activity?: string; text?: string; json?: boolean }) => {
        if (!(LOG_LEVELS as readonly string[]).includes(opts.level))
          throw new UserError(`--level takes one of ${LOG_LEVELS.join(', ')}, not "${opts.level}".`);
        const logs = await withDatabase((database) =>
          runLogs(database, run, {
            level: opts.level as (typeof LOG_LEVELS)[number],
            activity: opts.activity,
            text: opts.text,
            limit: 100_000,
          }),
        );
        createOutput(opts.json === true).result({ logs }, logs.map(describeLogLine).join('\n'));
      },
    );

  const control = (
    name: 'stop' | 'pause' | 'resume' | 'restart',
    description: string,
    act: (engine: Engine, run: string) => Promise<RunStatus | StartedRun>,
  ) =>
    runs
      .command(`${name} <run>`)
      .description(description)
      .option('--json', 'print the run status as JSON')
      .action(async (run: string, opts: { json?: boolean }) => {
        const status = await withDatabase(async (database) => {
          const engine = new Engine(database);
          try {
            const result = await act(engine, run);
            let settled = 'finished' in result ? await result.finished : result;
            // Carried out by the process executing the run: wait until it has (or its lease has lapsed
            // twice over, when it may have died and the next sweep of a server takes the run over).
            for (let i = 0; i < 1000 && TRANSIENT.has(settled.status); i++) {
              await delay(250);
              settled = await runStatus(database, run);
            }
            return settled;
          } finally {
            await engine.close();
          }
        });
        printRun(createOutput(opts.json === true), status);
      });

  control(
    'stop',
    'stop a run: tasks running finish, nothing else starts (it can then only be restarted)',
    (e, r) => e.stop(r),
  );
  control('pause', 'pause a run: tasks running finish, nothing else starts until it is resumed', (e, r) =>
    e.pause(r),
  );
  control('resume', 'resume a paused or failed run where it stood, and wait for it to settle', (e, r) =>
    e.resume(r),
  );
  control('restart', 'run a run again from the start (its earlier results are dropped), and wait', (e, r) =>
    e.restart(r),
  );
}

function wholeNumber(option: string, value: string, min = 1): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < min)
    throw new UserError(`${option} takes a whole number of at least ${min}, not "${value}".`);
  return n;
}

function describeRuns(campaign: string, listed: { total: number; runs: RunSummary[] }): string {
  if (listed.runs.length === 0)
    return `Campaign ${campaign} has no runs${listed.total ? ' on this page' : ''}.`;
  const lines = listed.runs.map((r) => {
    const ended = r.finishedAt ? Date.parse(r.finishedAt) : undefined;
    const took = ended === undefined ? '' : `${Math.round((ended - Date.parse(r.startedAt)) / 1000)} s`;
    return [
      r.id,
      r.mode.padEnd(4),
      r.trigger.padEnd(8),
      r.status.padEnd(8),
      (r.version === null ? '-' : `v${r.version}`).padEnd(4),
      r.startedAt,
      took.padStart(7),
      `sent ${r.sent}, failed ${r.failed}, bounced ${r.bounced}, excluded ${r.excluded}`,
    ].join('  ');
  });
  return `Runs of ${campaign}, newest first (${listed.runs.length} of ${listed.total}):\n${lines.map((l) => `  ${l}`).join('\n')}`;
}

/** What `status --watch` shows, kept up to date from the run's events. */
interface WatchView {
  status: RunStatus;
  deliveries: Map<string, DeliveryProgress>;
  logs: RunLogLine[];
}

const LOG_LINES_SHOWN = 5;

/**
 * Follows a run from the database (whichever process executes it) until it ends. On a terminal the view
 * is redrawn in place; elsewhere (a pipe, CI) each change is a line of its own; with --json each event is
 * a JSON line. Exits 1 when the run ends failed or stopped.
 */
async function watch(run: string, intervalMs: number, json: boolean): Promise<void> {
  const redraw = !json && process.stdout.isTTY === true;
  let view: WatchView | undefined;
  let drawn = 0;
  const ending = await withDatabase(async (database) => {
    for await (const { event } of watchRun(database, run, { intervalMs })) {
      if (json) process.stdout.write(`${JSON.stringify(event)}\n`);
      if (event.type === 'snapshot') {
        view = {
          status: event,
          deliveries: new Map(event.deliveries.map((d) => [d.activity, d])),
          logs: event.logs.slice(-LOG_LINES_SHOWN),
        };
      } else if (view) applyEvent(view, event);
      if (view && redraw) {
        const lines = renderView(view).map((l) => l.slice(0, process.stdout.columns || l.length));
        // Back to the first line drawn, cleared to the end of the screen.
        process.stdout.write(`${drawn ? `\x1b[${drawn}F\x1b[0J` : ''}${lines.join('\n')}\n`);
        drawn = lines.length;
      } else if (view && !json) {
        process.stdout.write(
          `${event.type === 'snapshot' ? renderView(view).join('\n') : describeEvent(event)}\n`,
        );
      }
      if (event.type === 'end') return event;
    }
    return undefined;
  });
  if (ending?.status !== 'done') process.exitCode = 1;
}

function applyEvent(view: WatchView, event: RunEvent): void {
  const { status } = view;
  if (event.type === 'task') status.tasks[event.activity] = event.state;
  else if (event.type === 'transition') {
    if (event.count === null) delete status.counts[event.transition];
    else status.counts[event.transition] = event.count;
  } else if (event.type === 'delivery') view.deliveries.set(event.activity, event);
  else if (event.type === 'log') view.logs = [...view.logs, ...event.lines].slice(-LOG_LINES_SHOWN);
  else if (event.type === 'run' || event.type === 'end') {
    status.status = event.status;
    status.error = event.error;
    status.finishedAt = event.finishedAt;
  }
}

function renderView(view: WatchView): string[] {
  const lines = describeRun(view.status).split('\n');
  if (view.deliveries.size > 0) {
    lines.push('Deliveries:');
    for (const d of view.deliveries.values()) lines.push(`  ${d.activity.padEnd(24)} ${describeDelivery(d)}`);
  }
  if (view.logs.length > 0) {
    lines.push('Latest log lines:');
    lines.push(...view.logs.map((l) => `  ${describeLogLine(l)}`));
  }
  return lines;
}

function describeDelivery(d: DeliveryProgress): string {
  const reasons = Object.entries(d.excludedByReason).map(([reason, n]) => `${reason} ${n}`);
  const counts = (['queued', 'sending', 'sent', 'delivered', 'failed', 'bounced', 'uncertain'] as const)
    .filter((s) => d[s] > 0 || s === 'queued' || s === 'sent')
    .map((s) => `${s} ${d[s].toLocaleString('en-US')}`);
  return [...counts, `excluded ${d.excluded}${reasons.length ? ` (${reasons.join(', ')})` : ''}`].join(', ');
}

function describeLogLine(l: RunLogLine): string {
  return `${l.at} ${l.level.padEnd(7)} ${(l.activity ?? '-').padEnd(20)} ${l.message}`;
}

/** One line per change, for a log file or a pipe. */
function describeEvent(event: Exclude<RunEvent, { type: 'snapshot' }>): string {
  switch (event.type) {
    case 'task':
      return `task ${event.activity}: ${event.state}${event.error ? ` (${event.error})` : ''}`;
    case 'transition':
      return `transition ${event.transition}: ${event.count === null ? 'discarded' : event.count.toLocaleString('en-US')}`;
    case 'delivery':
      return `delivery ${event.activity}: ${describeDelivery(event)}`;
    case 'log':
      return event.lines.map(describeLogLine).join('\n');
    case 'run':
      return `run ${event.status}${event.error ? ` (${event.error})` : ''}`;
    case 'end':
      return `run ended: ${event.status}`;
  }
}
