import type { Command } from 'commander';
import { importCsv } from '../../data/import/run-import.ts';
import { IMPORT_MODES, type ImportMode, type ImportReport } from '../../data/import/types.ts';
import { UserError } from '../../errors.ts';
import { withDatabase } from '../context.ts';
import { EXIT_USER_ERROR, createOutput } from '../output.ts';
import { createProgressBar } from '../progress.ts';

function wholeNumber(name: string) {
  return (value: string) => {
    const n = Number(value);
    if (!/^\d+$/.test(value) || !Number.isSafeInteger(n))
      throw new UserError(`${name} must be a whole number, not "${value}".`);
    return n;
  };
}

/** `--map "E-mail=email"` (repeatable); `--map "Notes="` ignores a field. */
function collectMapping(value: string, previous: Record<string, string | null> = {}) {
  const at = value.lastIndexOf('=');
  if (at <= 0)
    throw new UserError(
      `--map takes "<csv header>=<column>" (or "<csv header>=" to ignore), not "${value}".`,
    );
  return { ...previous, [value.slice(0, at)]: value.slice(at + 1) || null };
}

function delimiterOption(value: string) {
  const d = value === 'tab' || value === '\\t' ? '\t' : value;
  if (d !== ',' && d !== ';' && d !== '\t') throw new UserError('--delimiter must be ",", ";" or "tab".');
  return d;
}

function describe(report: ImportReport): string {
  const lines = [
    `${report.dryRun ? 'Dry run of' : 'Import of'} ${report.fileName} into ${report.table} (${report.mode}): ${report.status}`,
    `  rows read ${report.rowsRead}, inserted ${report.inserted}, updated ${report.updated}, deleted ${report.deleted}` +
      `${report.notFound ? `, not found ${report.notFound}` : ''}${report.duplicates ? `, superseded ${report.duplicates}` : ''}` +
      `, rejected ${report.rejectedRows}`,
    `  ${report.durationMs} ms, ${report.rowsPerSecond} rows/s`,
  ];
  if (report.message) lines.push(`  ${report.message}`);
  for (const r of report.rejections.slice(0, 20)) {
    lines.push(
      `  line ${r.line}${r.column ? `, ${r.column}` : ''}${r.value !== null ? ` (${JSON.stringify(r.value)})` : ''}: ${r.reason}`,
    );
  }
  if (report.rejectedRows > 20)
    lines.push(`  … all rejected rows: GET /api/imports/${report.id}/rejects.csv`);
  return lines.join('\n');
}

export function importCommand(program: Command): void {
  program
    .command('import <table> <file>')
    .description('import a CSV file into a table of the workspace')
    .option('--mode <mode>', `${IMPORT_MODES.join(' | ')}`, 'upsert')
    .option(
      '--max-errors <n>',
      'rows that may be rejected before the whole import is aborted',
      wholeNumber('--max-errors'),
      0,
    )
    .option('--delimiter <d>', '",", ";" or "tab" (detected from the header when absent)', delimiterOption)
    .option(
      '--map <header=column>',
      'map a CSV header to a column (repeatable; "header=" ignores it)',
      collectMapping,
    )
    .option('--batch-size <n>', 'commit every n rows instead of all or nothing', wholeNumber('--batch-size'))
    .option('--dry-run', 'check and count everything, write nothing')
    .option('--json', 'print the report as JSON')
    .action(
      async (
        table: string,
        file: string,
        opts: {
          mode: string;
          maxErrors: number;
          delimiter?: ',' | ';' | '\t';
          map?: Record<string, string | null>;
          batchSize?: number;
          dryRun?: boolean;
          json?: boolean;
        },
      ) => {
        const out = createOutput(opts.json === true);
        const bar = createProgressBar(`import ${table}`, !opts.json, 'rows');
        const report = await withDatabase((database) =>
          importCsv(database, {
            table,
            file,
            mode: opts.mode as ImportMode,
            maxErrors: opts.maxErrors,
            delimiter: opts.delimiter,
            mapping: opts.map,
            batchSize: opts.batchSize,
            dryRun: opts.dryRun,
            onProgress: (p) =>
              // The bar runs on bytes (the row total is unknown until the end) and shows rows and rows/s.
              bar.update(p.bytesRead, p.totalBytes, {
                rate: p.rowsPerSecond,
                detail: `${p.rowsRead} rows, ${p.rejectedRows} rejected`,
              }),
          }),
        ).finally(() => bar.stop());
        out.result(report, describe(report));
        if (report.status !== 'succeeded') process.exitCode = EXIT_USER_ERROR;
      },
    );
}
