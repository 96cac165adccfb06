import type { Command } from 'commander';
import {
  archiveCampaign,
  backToDraft,
  closeCampaign,
  confirmSend,
  duplicateCampaign,
  publishCampaign,
  setTags,
  stopCampaign,
} from '../../campaigns/lifecycle.ts';
import { parseSchedule, previewLaunches } from '../../campaigns/schedule.ts';
import type { CampaignSummary } from '../../campaigns/store.ts';
import { getCampaignDocument } from '../../campaigns/store.ts';
import { triggerCampaign } from '../../campaigns/triggers.ts';
import { Engine } from '../../engine/engine.ts';
import { UserError } from '../../errors.ts';
import { withDatabase } from '../context.ts';
import { createOutput } from '../output.ts';
import { printRun } from './runs.ts';

/**
 * The lifecycle from a terminal: `publish`, `back-to-draft`, `stop`, `close`, `archive`, `duplicate`,
 * `tags`, `confirm` and `schedule <campaign>`. What they start is queued: a running `baton start` or
 * `baton worker` executes it, or, with `publish --wait` / `confirm --wait`, this process does and
 * returns when the run settles.
 */
export function lifecycleCommands(program: Command): void {
  program
    .command('publish <campaign>')
    .description('publish a draft: freeze a version, then start it (asap), schedule it, or await signals')
    .option('--wait', 'execute the run it starts in this process and return when it settles')
    .option('--json', 'print { campaign, version, status, run, nextLaunch } as JSON')
    .action(async (id: string, opts: { wait?: boolean; json?: boolean }) => {
      const out = createOutput(opts.json === true);
      await withDatabase(async (database) => {
        const engine = new Engine(database);
        try {
          const result = await publishCampaign(database, engine, id, new Date());
          const started = opts.wait && result.run ? await engine.take(result.run) : undefined;
          const settled = started ? await started.finished : undefined;
          const then = result.run
            ? settled
              ? `run ${result.run}: ${settled.status}${waitingHint(Object.values(settled.tasks))}`
              : `run ${result.run} queued: a running \`baton start\` or \`baton worker\` executes it (or publish with --wait)`
            : result.nextLaunch
              ? `first launch ${result.nextLaunch}`
              : 'waiting for signals (POST /api/campaigns/:id/trigger, or an end activity of another campaign)';
          out.result(result, `${id} published as version ${result.version}: ${result.status}; ${then}.`);
        } finally {
          await engine.close();
        }
      });
    });

  const simple: Array<
    [
      string,
      string,
      (database: Parameters<typeof backToDraft>[0], engine: Engine, id: string) => Promise<CampaignSummary>,
    ]
  > = [
    [
      'back-to-draft',
      'make a scheduled (not yet run) or failed live campaign a draft again',
      (d, _e, id) => backToDraft(d, id),
    ],
    [
      'stop',
      'stop a campaign for good: no more launches, runs under way stop (duplicate it to run it again)',
      (d, e, id) => stopCampaign(d, e, id),
    ],
    [
      'close',
      'close a recurring campaign: no new launches, runs under way finish',
      (d, _e, id) => closeCampaign(d, id),
    ],
    [
      'archive',
      'archive a campaign (not a draft); it is purged 30 days later',
      (d, _e, id) => archiveCampaign(d, id),
    ],
  ];
  for (const [name, description, act] of simple) {
    program
      .command(`${name} <campaign>`)
      .description(description)
      .option('--json', 'print the campaign as JSON')
      .action(async (id: string, opts: { json?: boolean }) => {
        const out = createOutput(opts.json === true);
        const campaign = await withDatabase(async (database) => {
          const engine = new Engine(database);
          try {
            return await act(database, engine, id);
          } finally {
            await engine.close();
          }
        });
        out.result(campaign, `${campaign.id} is ${campaign.status}.`);
      });
  }

  program
    .command('duplicate <campaign>')
    .description('copy a campaign, whatever its status, into a new draft')
    .option('--id <id>', 'the new campaign id (default <campaign>-copy)')
    .option('--name <name>', 'the new name (default "<name> (copy)")')
    .option('--json', 'print the new campaign as JSON')
    .action(async (id: string, opts: { id?: string; name?: string; json?: boolean }) => {
      const campaign = await withDatabase((database) =>
        duplicateCampaign(database, id, { id: opts.id, name: opts.name }),
      );
      createOutput(opts.json === true).result(campaign, `${campaign.id} created as a draft copy of ${id}.`);
    });

  program
    .command('tags <campaign> [tags...]')
    .description("set a campaign's tags (any status)")
    .option('--json', 'print the campaign as JSON')
    .action(async (id: string, tags: string[], opts: { json?: boolean }) => {
      const campaign = await withDatabase((database) => setTags(database, id, tags));
      createOutput(opts.json === true).result(campaign, `${id}: tags ${campaign.tags.join(', ') || 'none'}.`);
    });

  program
    .command('confirm <run> [activity]')
    .description('release sends waiting for a confirmation (the activity given, or every one waiting)')
    .option('--wait', 'execute the run in this process and return when it settles')
    .option('--json', 'print { run, confirmed } (or, with --wait, the run status) as JSON')
    .action(async (run: string, activity: string | undefined, opts: { wait?: boolean; json?: boolean }) => {
      const out = createOutput(opts.json === true);
      await withDatabase(async (database) => {
        const confirmed = await confirmSend(database, run, activity);
        if (!opts.wait) {
          out.result({ run, confirmed }, `Confirmed ${confirmed.join(', ')} of run ${run}.`);
          return;
        }
        const engine = new Engine(database);
        try {
          const [started] = (await engine.sweep()).filter((s) => s.run === run);
          if (started) printRun(out, await started.finished);
          else
            out.result(
              { run, confirmed },
              `Confirmed ${confirmed.join(', ')}; another process executes run ${run}.`,
            );
        } finally {
          await engine.close();
        }
      });
    });

  program
    .command('trigger <campaign> [parameters...]')
    .description('start a run of a live signal campaign, with parameters name=value (JSON values allowed)')
    .option('--json', 'print { campaign, run } as JSON')
    .action(async (id: string, pairs: string[], opts: { json?: boolean }) => {
      const parameters = Object.fromEntries(pairs.map(parameterPair));
      const run = await withDatabase(async (database) => {
        const engine = new Engine(database);
        try {
          return await triggerCampaign(database, engine, id, parameters, new Date());
        } finally {
          await engine.close();
        }
      });
      createOutput(opts.json === true).result(
        { campaign: id, run },
        `Run ${run} of ${id} queued: a running \`baton start\` or \`baton worker\` executes it.`,
      );
    });

  program
    .command('schedule <campaign>')
    .description("preview a campaign's next launch times in its time zone")
    .option('--count <n>', 'how many launches', '10')
    .option('--json', 'print { frequency, launches: [{ at, local }] } as JSON')
    .action(async (id: string, opts: { count: string; json?: boolean }) => {
      const document = await withDatabase((database) => getCampaignDocument(database, id));
      const schedule = parseSchedule(document.schedule ?? { frequency: 'asap' });
      const launches = previewLaunches(schedule, new Date(), Math.max(1, Number(opts.count) || 10)).map(
        (l) => ({
          at: l.at.toISOString(),
          local: l.local,
        }),
      );
      createOutput(opts.json === true).result(
        { frequency: schedule.frequency, launches },
        launches.length
          ? `${id} (${schedule.frequency}) launches at:\n${launches.map((l) => `  ${l.local}`).join('\n')}`
          : `${id} (${schedule.frequency}) has no launch time: ${schedule.frequency === 'signal' ? 'it starts on a signal' : schedule.frequency === 'asap' ? 'it starts when published' : 'none is left'}.`,
      );
    });
}

/** `name=value`: the value as JSON when it reads as JSON (numbers, booleans), else as text. */
function parameterPair(pair: string): [string, unknown] {
  const at = pair.indexOf('=');
  if (at <= 0) throw new UserError(`A parameter is name=value; got "${pair}".`);
  const text = pair.slice(at + 1);
  try {
    return [pair.slice(0, at), JSON.parse(text) as unknown];
  } catch {
    return [pair.slice(0, at), text];
  }
}

function waitingHint(states: string[]): string {
  return states.includes('needs-confirmation')
    ? ' — a send waits for its confirmation: baton confirm <run>'
    : '';
}
