import { Command, CommanderError } from 'commander';
import { audiencesCommand } from './commands/audiences.ts';
import { demoCommand } from './commands/demo.ts';
import { feedbackCommand } from './commands/feedback.ts';
import { filesCommand } from './commands/files.ts';
import { importCommand } from './commands/import.ts';
import { ledgerCommands } from './commands/ledger.ts';
import { lifecycleCommands } from './commands/lifecycle.ts';
import { campaignCommands } from './commands/campaigns.ts';
import { reportCommand } from './commands/report.ts';
import { rulesCommand } from './commands/rules.ts';
import { runCommands } from './commands/runs.ts';
import { schemaCommand } from './commands/schema.ts';
import { startCommands } from './commands/start.ts';
import { workerCommand } from './commands/worker.ts';
import { EXIT_OK, EXIT_USER_ERROR, reportError } from './output.ts';

export function buildProgram(): Command {
  const program = new Command('baton')
    .description('Baton: orchestrated marketing campaigns (see README.md)')
    .showHelpAfterError()
    .exitOverride();
  startCommands(program);
  workerCommand(program);
  schemaCommand(program);
  importCommand(program);
  demoCommand(program);
  rulesCommand(program);
  campaignCommands(program);
  lifecycleCommands(program);
  runCommands(program);
  filesCommand(program);
  audiencesCommand(program);
  reportCommand(program);
  feedbackCommand(program);
  ledgerCommands(program);
  return program;
}

/** Runs the CLI and returns the exit code (0 ok, 1 user error, 2 internal error). */
export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT_OK;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version are not errors; commander already printed what is wrong otherwise.
      return error.exitCode === 0 ? EXIT_OK : EXIT_USER_ERROR;
    }
    return reportError(error, argv.includes('--json'));
  }
}
