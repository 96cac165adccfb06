import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import { addFile, deleteFile, filesFolder, listFiles } from '../../data/files-folder.ts';
import { createOutput } from '../output.ts';

/** `baton files [list]`, `baton files add <file> [--name]`, `baton files delete <name>`: the files campaigns load. */
export function filesCommand(program: Command): void {
  const files = program
    .command('files')
    .description('the files folder that load-file activities read (<BATON_DATA_DIR>/files)');
  const folder = () => filesFolder(loadConfig().dataDir);

  files
    .command('list', { isDefault: true })
    .description('list the files (the default)')
    .option('--json', 'print the result as JSON')
    .action(async (opts: { json?: boolean }) => {
      const list = await listFiles(folder());
      createOutput(opts.json === true).result(
        { folder: folder(), files: list },
        list.length === 0
          ? `No files in ${folder()}: add one with baton files add <file.csv>.`
          : `${list.length} files in ${folder()}:\n${list
              .map(
                (f) =>
                  `  ${f.name.padEnd(32)} ${f.size.toLocaleString('en-US').padStart(14)} bytes  ${f.modifiedAt}`,
              )
              .join('\n')}`,
      );
    });

  files
    .command('add <file>')
    .description('copy a file into the folder (replacing one of the same name)')
    .option('--name <name>', 'the name to keep it under (by default its own)')
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { name?: string; json?: boolean }) => {
      const stored = await addFile(folder(), file, opts.name);
      createOutput(opts.json === true).result(
        stored,
        `Added ${stored.name} (${stored.size.toLocaleString('en-US')} bytes): a load-file activity reads it with file: ${stored.name}`,
      );
    });

  files
    .command('delete <name>')
    .description('delete a file from the folder')
    .option('--json', 'print the result as JSON')
    .action(async (name: string, opts: { json?: boolean }) => {
      await deleteFile(folder(), name);
      createOutput(opts.json === true).result({ deleted: name }, `Deleted ${name}.`);
    });
}
