import { csvLine } from '../data/csv-line.ts';
import type { Breakdown } from './breakdowns.ts';
import type { CampaignReport, Figures } from './report.ts';

/** The report and its breakdowns as CSV (docs/reports.md "CSV"): a header row, then one row per line. */

const FIGURES: Array<[string, (f: Figures) => number | string | null]> = [
  ['targeted', (f) => f.targeted],
  ['excluded', (f) => Object.values(f.excluded).reduce((a, b) => a + b, 0)],
  ['sent', (f) => f.sent],
  ['delivered', (f) => f.delivered],
  ['bounced', (f) => f.bounced],
  ['hard_bounces', (f) => f.hardBounces],
  ['soft_bounces', (f) => f.softBounces],
  ['failed', (f) => f.failed],
  ['uncertain', (f) => f.uncertain],
  ['pending', (f) => f.pending],
  ['opens', (f) => f.opens],
  ['unique_opens', (f) => f.uniqueOpens],
  ['estimated_opens', (f) => f.estimatedOpens],
  ['estimated_unique_opens', (f) => f.estimatedUniqueOpens],
  ['clicks', (f) => f.clicks],
  ['unique_clicks', (f) => f.uniqueClicks],
  ['unsubscribes', (f) => f.unsubscribes],
  ['complaints', (f) => f.complaints],
  ['machine_opens', (f) => f.machine.opens],
  ['machine_unique_opens', (f) => f.machine.uniqueOpens],
  ['machine_clicks', (f) => f.machine.clicks],
  ['machine_unique_clicks', (f) => f.machine.uniqueClicks],
  ['rate_base', (f) => f.rateBase],
  ['delivery_rate', (f) => f.deliveryRate],
  ['open_rate', (f) => f.openRate],
  ['estimated_open_rate', (f) => f.estimatedOpenRate],
  ['click_through_rate', (f) => f.clickThroughRate],
  ['click_to_open_rate', (f) => f.clickToOpenRate],
  ['bounce_rate', (f) => f.bounceRate],
];

export const REPORT_CSV_COLUMNS = [
  'scope',
  'run',
  'started_at',
  'activity',
  'channel',
  ...FIGURES.map(([n]) => n),
];

const cell = (value: string | number | null | undefined) =>
  value === null || value === undefined ? '' : String(value);

/** One row per channel activity, one per run, and the campaign's total. */
export function reportCsv(report: CampaignReport): string {
  const row = (scope: string, ids: Array<string | null>, f: Figures) =>
    csvLine([scope, ...ids.map(cell), ...FIGURES.map(([, get]) => cell(get(f)))]);
  return [
    csvLine(REPORT_CSV_COLUMNS),
    ...report.activities.map((a) => row('activity', [null, null, a.activity, a.channel], a)),
    ...report.runs.map((r) => row('run', [r.run, r.startedAt, null, null], r)),
    row('total', [null, null, null, null], report.totals),
    '',
  ].join('\n');
}

const TIME_COLUMNS = [
  'at',
  'sent',
  'delivered',
  'bounced',
  'opens',
  'uniqueOpens',
  'clicks',
  'uniqueClicks',
  'unsubscribes',
  'complaints',
  'machineOpens',
  'machineClicks',
];

const BREAKDOWN_COLUMNS: Record<Breakdown['by'], string[]> = {
  domain: [
    'domain',
    'targeted',
    'excluded',
    'sent',
    'delivered',
    'bounced',
    'failed',
    'uniqueOpens',
    'estimatedUniqueOpens',
    'uniqueClicks',
    'openRate',
    'clickThroughRate',
  ],
  link: ['link', 'url', 'clicks', 'uniqueClicks', 'machineClicks'],
  hour: TIME_COLUMNS,
  day: TIME_COLUMNS,
  reason: ['kind', 'reason', 'count', 'share'],
};
const snake = (name: string) => name.replace(/[A-Z]/g, (c) => `_${c.toLowerCase()}`);

export function breakdownCsv(breakdown: Breakdown): string {
  const columns = BREAKDOWN_COLUMNS[breakdown.by];
  const rows = breakdown.rows as unknown as Array<Record<string, string | number | null>>;
  return [csvLine(columns.map(snake)), ...rows.map((r) => csvLine(columns.map((c) => cell(r[c])))), ''].join(
    '\n',
  );
}
