import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import {
  exportCampaign,
  getCampaignDocument,
  saveCampaign,
  validateCampaign,
} from '../../campaigns/store.ts';
import { UserError, unreadableFile } from '../../errors.ts';
import { withDatabase } from '../context.ts';
import { createOutput } from '../output.ts';

/**
 * `baton apply <campaign.yaml>`, `baton export <campaign>`, `baton validate <campaign.yaml | campaign>`:
 * campaign documents between files (kept in git) and the workspace.
 */
function readDocument(file: string): unknown {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (error) {
    throw unreadableFile(file, error);
  }
  try {
    return parseYaml(text) as unknown;
  } catch (error) {
    throw new UserError(`${file} is not valid YAML or JSON: ${(error as Error).message}`);
  }
}

export function campaignCommands(program: Command): void {
  program
    .command('apply <campaign-file>')
    .description('check a campaign document and save it as a draft (created or replaced)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { json?: boolean }) => {
      const out = createOutput(opts.json === true);
      const document = readDocument(file);
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
          isFile ? readDocument(target) : await getCampaignDocument(database, target),
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
}
