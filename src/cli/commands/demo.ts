import type { Command } from 'commander';
import { loadExampleCampaigns } from '../../campaigns/examples.ts';
import { DEFAULT_DEMO_PROFILES, DEFAULT_DEMO_SEED, loadDemo } from '../../data/demo/load-demo.ts';
import { parseDate } from '../../data/cell-values.ts';
import { UserError } from '../../errors.ts';
import { withDatabase } from '../context.ts';
import { createOutput } from '../output.ts';
import { createProgressBar } from '../progress.ts';

export function demoCommand(program: Command): void {
  program
    .command('demo')
    .description('create the demo retail workspace (schema and generated data)')
    .option('--profiles <n>', 'number of customer profiles', String(DEFAULT_DEMO_PROFILES))
    .option('--seed <seed>', 'random seed: the same seed and date give the same rows', DEFAULT_DEMO_SEED)
    .option('--as-of <date>', 'the day the data is relative to (YYYY-MM-DD; default today)')
    .option('--force', 'replace the existing workspace and its data')
    .option('--json', 'print the result as JSON')
    .action(
      async (opts: { profiles: string; seed: string; asOf?: string; force?: boolean; json?: boolean }) => {
        const out = createOutput(opts.json === true);
        const profiles = Number(opts.profiles);
        if (!/^\d+$/.test(opts.profiles))
          throw new UserError(`--profiles must be a whole number, not "${opts.profiles}".`);
        let asOf: Date | undefined;
        if (opts.asOf !== undefined) {
          if (!parseDate(opts.asOf).ok)
            throw new UserError(`--as-of must be a date as YYYY-MM-DD, not "${opts.asOf}".`);
          asOf = new Date(`${opts.asOf}T00:00:00Z`);
        }
        const bar = createProgressBar('demo', !opts.json);
        const result = await withDatabase(async (database) => {
          const loaded = await loadDemo(database, {
            profiles,
            seed: opts.seed,
            asOf,
            force: opts.force,
            onProgress: (table, rows, expected) => bar.update(rows, expected, { detail: table }),
          });
          return { ...loaded, campaigns: await loadExampleCampaigns(database) };
        }).finally(() => bar.stop());
        const counts = Object.entries(result.rows)
          .map(([t, n]) => `${t} ${n.toLocaleString('en-US')}`)
          .join(', ');
        out.result(
          result,
          `Demo workspace ready (seed ${result.seed}, as of ${result.asOf}): ${counts} in ${(result.durationMs / 1000).toFixed(1)} s.` +
            (result.campaigns.length
              ? `\nExample campaigns: ${result.campaigns.join(', ')} (try: npx baton run ${result.campaigns[0]} --test).`
              : ''),
        );
      },
    );
}
