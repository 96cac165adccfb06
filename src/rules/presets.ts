/**
 * Date presets the rule builder offers as values of date and datetime conditions: each is an expression
 * of the language, evaluated at run time against the run's "now" (UTC), so a saved rule keeps meaning
 * "the last 30 days" whenever it runs.
 */
export interface DatePreset {
  id: string;
  label: string;
  /** A value for a condition: `{ field: created_at, op: gte, value: { expr } }`. */
  expr: string;
}

export const DATE_PRESETS: readonly DatePreset[] = [
  { id: 'now', label: 'Now', expr: 'GetDate()' },
  { id: 'today', label: 'Today', expr: 'DaysAgo(0)' },
  { id: 'yesterday', label: 'Yesterday', expr: 'DaysAgo(1)' },
  { id: 'days-ago-7', label: '7 days ago', expr: 'DaysAgo(7)' },
  { id: 'days-ago-30', label: '30 days ago', expr: 'DaysAgo(30)' },
  { id: 'days-ago-90', label: '90 days ago', expr: 'DaysAgo(90)' },
  { id: 'days-ago-365', label: '365 days ago', expr: 'DaysAgo(365)' },
  { id: 'start-of-week', label: 'Start of this week (Monday)', expr: 'TruncWeek(GetDate())' },
  { id: 'start-of-month', label: 'Start of this month', expr: 'TruncMonth(GetDate())' },
  { id: 'start-of-last-month', label: 'Start of last month', expr: 'TruncMonth(SubMonths(GetDate(), 1))' },
  { id: 'start-of-quarter', label: 'Start of this quarter', expr: 'TruncQuarter(GetDate())' },
  { id: 'start-of-year', label: 'Start of this year', expr: 'TruncYear(GetDate())' },
  { id: 'start-of-last-year', label: 'Start of last year', expr: 'TruncYear(SubYears(GetDate(), 1))' },
  { id: 'months-ago-6', label: '6 months ago', expr: 'MonthsAgo(6)' },
  { id: 'years-ago-1', label: '1 year ago', expr: 'YearsAgo(1)' },
];
