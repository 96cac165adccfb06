import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import {
  exportCampaign,
  getCampaignDocument,
  saveCampaign,
  validateCampaign,
} from '../../campaigns/store.ts';
import { startRun } from '../../engine/run-campaign.ts';
import { UserError } from '../../errors.ts';
import { readYamlFile } from '../read-yaml-file.ts';
import { withDatabase } from '../context.ts';
import { createOutput } from '../output.ts';
import { printRun } from './runs.ts';

/**
 * `baton apply <campaign.yaml>`, `baton export <campaign>`, `baton validate <campaign.yaml | campaign>`:
 * campaign documents between files (kept in git) and the workspace.
 */

export function campaignCommands(program: Command): void {
  program
    .command('apply <campaign-file>')
    .description('check a campaign document and save it as a draft (created or replaced)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const out = createOutput(opts.json === true);
      const document = readYamlFile(file);
      const { campaign, created } = await withDatabase((database) => saveCampaign(database, document));
      out.result(
        { ...campaign, created },
        `${created ? 'Created' : 'Updated'} draft campaign ${campaign.id} (${campaign.name}): ${campaign.activities} activities.`,
      );
    });

  program
    .command('export <campaign>')
    .description('print a campaign document as YAML (or write it to a file)')
    .option('--out <file>', 'write to this file instead of printing')
    .action(async (id: string, opts: { out?: string }) => {
      const yaml = await withDatabase((database) => exportCampaign(database, id));
      if (opts.out) {
        writeFileSync(opts.out, yaml);
        process.stderr.write(`Wrote ${id} to ${opts.out}.\n`);
      } else process.stdout.write(yaml);
    });

  program
    .command('validate <campaign>')
    .description('check a campaign document (a file, or the id of a saved campaign) without saving it')
    .option('--json', 'print the result as JSON')
    .action(async (target: string, opts: { json?: boolean }) => {
      const out = createOutput(opts.json === true);
      const checked = await withDatabase(async (database) => {
        const isFile = /\.(ya?ml|json)$/i.test(target);
        return validateCampaign(
          database,
          isFile ? readYamlFile(target) : await getCampaignDocument(database, target),
        );
      });
      const lines = checked.activities.map((a) => {
        const population = a.population.kind === 'dimension' ? a.population.table.name : a.population.kind;
        const from = a.inputs.length
          ? ` ← ${a.inputs.map((i) => (i.port ? `${i.activity}.${i.port}` : i.activity)).join(', ')}`
          : '';
        return `  ${a.id} (${a.definition.type}, ${population})${from}`;
      });
      out.result(
        { valid: true, activities: checked.activities.map((a) => ({ id: a.id, type: a.definition.type })) },
        `${checked.document.id} is valid: ${checked.activities.length} activities.\n${lines.join('\n')}`,
      );
    });

  program
    .command('run <campaign>')
    .description('run a campaign in test mode and print the count on every transition')
    .requiredOption('--test', 'a test run: nothing is sent, no audience is saved (the only kind so far)')
    .option('--now <datetime>', 'the time the run treats as now (ISO 8601)')
    .option('--json', 'print the run status as JSON')
    .action(async (id: string, opts: { now?: string; json?: boolean }) => {
      const out = createOutput(opts.json === true);
      const now = opts.now === undefined ? undefined : Date.parse(opts.now);
      if (now !== undefined && Number.isNaN(now))
        throw new UserError(`--now takes an ISO 8601 date-time, not "${opts.now}".`);
      const status = await withDatabase(async (database) => (await startRun(database, id, { now })).finished);
      printRun(out, status);
    });
}
