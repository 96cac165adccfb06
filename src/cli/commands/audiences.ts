import type { Command } from 'commander';
import { deleteAudience, listAudiences } from '../../audiences/store.ts';
import { withDatabase } from '../context.ts';
import { createOutput } from '../output.ts';

/** `baton audiences [list]` and `baton audiences delete <name>`: the audiences live runs saved. */
export function audiencesCommand(program: Command): void {
  const audiences = program.command('audiences').description('list or delete saved audiences');

  audiences
    .command('list', { isDefault: true })
    .description('list the saved audiences (the default)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const out = createOutput(opts.json === true);
      const list = await withDatabase((database) => listAudiences(database));
      const lines = list.map(
        (a) =>
          `  ${a.name.padEnd(24)} ${a.count.toLocaleString('en-US').padStart(10)} ${a.dimension.padEnd(16)} ` +
          `${a.campaign}/${a.activity}, saved ${a.savedAt}`,
      );
      out.result(
        { audiences: list },
        list.length === 0
          ? 'No saved audiences: a live run of a campaign with a save-audience activity saves one.'
          : `${list.length} saved audiences:\n${lines.join('\n')}`,
      );
    });

  audiences
    .command('delete <name>')
    .description('delete a saved audience and its rows (its name is free again)')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      const out = createOutput(opts.json === true);
      await withDatabase((database) => deleteAudience(database, name));
      out.result({ deleted: name }, `Deleted audience ${name}.`);
    });
}
