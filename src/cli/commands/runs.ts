import type { Command } from 'commander';
import { setTimeout as delay } from 'node:timers/promises';
import { Engine, type StartedRun } from '../../engine/engine.ts';
import { LOG_LEVELS, runLogs, runStatus, type RunStatus } from '../../engine/run-inspection.ts';
import { UserError } from '../../errors.ts';
import { withDatabase } from '../context.ts';
import { createOutput, type Output } from '../output.ts';

/**
 * `baton status <run>` and `baton runs logs|stop|pause|resume|restart <run>`: following and controlling a
 * run from a terminal. A resume or restart executes the run in this process and returns when it settles;
 * a stop or pause asked while another process (a running server) executes the run is carried out by that
 * process, and the command waits for it.
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
    .option('--json', 'print { run, status, counts, tasks, … } as JSON')
    .action(async (run: string, opts: { json?: boolean }) => {
      printRun(createOutput(opts.json === true), await withDatabase((database) => runStatus(database, run)));
    });

  const runs = program.command('runs').description('follow and control runs');
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
        createOutput(opts.json === true).result(
          { logs },
          logs
            .map((l) => `${l.at} ${l.level.padEnd(7)} ${(l.activity ?? '-').padEnd(20)} ${l.message}`)
            .join('\n'),
        );
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
