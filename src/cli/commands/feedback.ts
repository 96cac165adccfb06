import { readFile } from 'node:fs/promises';
import { buffer } from 'node:stream/consumers';
import type { Command } from 'commander';
import { unreadableFile } from '../../errors.ts';
import { readEmailReport, ReportFormatError } from '../../tracking/feedback/email-reports.ts';
import { recordFeedback, type FeedbackOutcome } from '../../tracking/feedback/recorder.ts';
import { withDatabase } from '../context.ts';
import { createOutput } from '../output.ts';

/**
 * `baton feedback <file.eml|->`: records a bounce or abuse report read from a file or standard input —
 * what a bounce mailbox's delivery pipe runs (`| npx baton feedback -`) when the server's webhook is not
 * the way in (docs/tracking.md "Provider feedback").
 */
function describe(outcome: FeedbackOutcome): string {
  const ignored = Object.entries(outcome.ignored).map(([status, n]) => `${n} ${status}`);
  return [
    `${outcome.recorded} recorded`,
    `${outcome.duplicates} already recorded`,
    `${outcome.unknown} about messages Baton did not send`,
    ...(outcome.early > 0 ? [`${outcome.early} about messages still being sent (run it again shortly)`] : []),
    ...(ignored.length > 0 ? [`ignored: ${ignored.join(', ')}`] : []),
  ].join('; ');
}

export function feedbackCommand(program: Command): void {
  program
    .command('feedback <file>')
    .description('record a bounce (DSN) or abuse report (ARF) email; "-" reads standard input')
    .option('--json', 'print the outcome as JSON')
    .action(async (file: string, options: { json?: boolean }) => {
      const output = createOutput(options.json === true);
      let raw: Buffer;
      try {
        raw = file === '-' ? await buffer(process.stdin) : await readFile(file);
      } catch (error) {
        throw unreadableFile(file, error);
      }
      const reading = readEmailReport(raw);
      if (!reading) {
        throw new ReportFormatError(
          `${file === '-' ? 'The input' : file} is not a report: expected multipart/report with report-type delivery-status (RFC 3464) or feedback-report (RFC 5965).`,
        );
      }
      const outcome = await withDatabase((database) => recordFeedback(database, reading));
      output.result(outcome, describe(outcome));
    });
}
