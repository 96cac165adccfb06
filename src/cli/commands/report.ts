import type { Command } from 'commander';
import { UserError } from '../../errors.ts';
import { reportCsv } from '../../reporting/csv.ts';
import { campaignReport, type CampaignReport, type Figures } from '../../reporting/report.ts';
import { withDatabase } from '../context.ts';
import { createOutput } from '../output.ts';

/** `baton report <campaign>`: the campaign's report as a table, as JSON (the API's document) or as CSV. */

const count = (n: number) => n.toLocaleString('en-US');
const rate = (r: number | null) => (r === null ? '—' : `${(r * 100).toFixed(1)}%`);
const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

const COLUMNS: Array<[string, (f: Figures) => string]> = [
  ['targeted', (f) => count(f.targeted)],
  ['excluded', (f) => count(sum(f.excluded))],
  ['sent', (f) => count(f.sent)],
  ['delivered', (f) => count(f.delivered)],
  ['bounced', (f) => count(f.bounced)],
  ['failed', (f) => count(f.failed)],
  ['u.opens', (f) => count(f.uniqueOpens)],
  ['est.opens', (f) => count(f.estimatedUniqueOpens)],
  ['u.clicks', (f) => count(f.uniqueClicks)],
  ['unsubs', (f) => count(f.unsubscribes)],
  ['complaints', (f) => count(f.complaints)],
  ['CTR', (f) => rate(f.clickThroughRate)],
  ['CTOR', (f) => rate(f.clickToOpenRate)],
];

function table(rows: Array<[string, Figures]>): string {
  const cells = [
    ['', ...COLUMNS.map(([name]) => name)],
    ...rows.map(([label, f]) => [label, ...COLUMNS.map(([, get]) => get(f))]),
  ];
  const widths = cells[0]!.map((_, i) => Math.max(...cells.map((r) => r[i]!.length)));
  return cells
    .map((r) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  '))
    .join('\n');
}

function reasons(title: string, counts: Record<string, number>): string[] {
  const entries = Object.entries(counts).sort(([, a], [, b]) => b - a);
  return entries.length === 0
    ? []
    : [`${title}:`, ...entries.map(([r, n]) => `  ${count(n).padStart(10)}  ${r}`)];
}

export function describeReport(report: CampaignReport): string {
  const f = report.filters;
  const scope = [
    f.run ? `run ${f.run}` : `${report.runs.length} run(s)`,
    f.activity ? `activity ${f.activity}` : null,
    f.from || f.to ? `from ${f.from ?? 'the start'} to ${f.to ?? 'now'}` : null,
  ].filter(Boolean);
  const t = report.totals;
  return [
    `Report of ${report.campaign.name} (${report.campaign.id}), ${scope.join(', ')}; ` +
      (f.humanOnly ? 'human events only, ' : 'machine events included, ') +
      `machine opens ${count(t.machine.opens)}, clicks ${count(t.machine.clicks)}; rates over ${t.rateBase}.`,
    table([
      ...report.activities.map((a): [string, Figures] => [`${a.activity} (${a.channel})`, a]),
      ['total', t],
    ]),
    ...reasons('Excluded', t.excluded),
    ...reasons('Bounces', t.bounceReasons),
    ...reasons('Errors', t.errors),
  ].join('\n');
}

export function reportCommand(program: Command): void {
  program
    .command('report <campaign>')
    .description("print a campaign's report: per channel activity, from the ledger and the tracking events")
    .option('--run <run>', 'only this run (execution)')
    .option('--activity <activity>', 'only this channel activity')
    .option('--from <time>', 'only what happened from this time (ISO 8601)')
    .option('--to <time>', 'only what happened before this time (ISO 8601)')
    .option('--include-machine', 'count machine opens and clicks in the main figures too')
    .option('--csv', 'print the report as CSV: a row per activity, per run and the total')
    .option('--json', 'print the report as JSON: { campaign, runs, activities: [...], totals }')
    .action(
      async (
        campaign: string,
        opts: {
          run?: string;
          activity?: string;
          from?: string;
          to?: string;
          includeMachine?: boolean;
          csv?: boolean;
          json?: boolean;
        },
      ) => {
        if (opts.csv && opts.json) throw new UserError('Choose --csv or --json, not both.');
        const report = await withDatabase((database) =>
          campaignReport(database, campaign, {
            run: opts.run,
            activity: opts.activity,
            from: opts.from,
            to: opts.to,
            includeMachine: opts.includeMachine === true,
          }),
        );
        if (opts.csv) process.stdout.write(reportCsv(report));
        else createOutput(opts.json === true).result(report, describeReport(report));
      },
    );
}
