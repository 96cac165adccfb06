import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { tableRowCounts } from '../../data/table-rows.ts';
import { unreadableFile } from '../../errors.ts';
import { erSummary, erText } from '../../schema/er-summary.ts';
import { applySchema } from '../../schema/migrate.ts';
import { parseSchemaText, schemaToDocument } from '../../schema/parse.ts';
import { requireSchema } from '../../schema/store.ts';
import { withDatabase } from '../context.ts';
import { createOutput } from '../output.ts';

export function schemaCommand(program: Command): void {
  const schema = program.command('schema').description('show or change the workspace schema (baton.yaml)');

  schema
    .command('apply <file>')
    .description('validate a baton.yaml and create or migrate the data tables')
    .option('--dry-run', 'show what would change, change nothing')
    .option(
      '--allow-drop',
      'allow changes that delete data (dropped tables or columns, changed types or keys)',
    )
    .option('--json', 'print the result as JSON')
    .action(async (file: string, opts: { dryRun?: boolean; allowDrop?: boolean; json?: boolean }) => {
      const out = createOutput(opts.json === true);
      let text: string;
      try {
        text = readFileSync(file, 'utf8');
      } catch (error) {
        throw unreadableFile(file, error);
      }
      const parsed = parseSchemaText(text, file);
      const result = await withDatabase((database) =>
        applySchema(database, parsed, { dryRun: opts.dryRun, allowDrop: opts.allowDrop }),
      );
      const steps = result.steps.map((s) => `  ${s.destructive ? '!' : '+'} ${s.description}`).join('\n');
      const head = result.dryRun
        ? `Dry run: applying ${file} would make version ${result.version}.`
        : result.changed
          ? `Applied ${file} as schema version ${result.version}.`
          : `${file} is already the applied schema (version ${result.version}).`;
      out.result(result, `${head}\n${steps || '  (no change to the tables)'}\n${result.summary}`);
    });

  schema
    .command('show')
    .description('print the applied schema as an entity-relationship summary')
    .option('--json', 'print the ER summary as JSON')
    .option('--yaml', 'print the schema document as YAML')
    .action(async (opts: { json?: boolean; yaml?: boolean }) => {
      const out = createOutput(opts.json === true);
      await withDatabase(async (database) => {
        const stored = await requireSchema(database);
        if (opts.yaml) {
          process.stdout.write(stringify(schemaToDocument(stored.schema)));
          return;
        }
        const summary = erSummary(stored.schema, await tableRowCounts(database, stored.schema));
        out.result(
          { version: stored.version, appliedAt: stored.appliedAt, ...summary },
          `Schema version ${stored.version}\n\n${erText(summary)}`,
        );
      });
    });
}
