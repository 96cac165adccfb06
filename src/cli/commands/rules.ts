import type { Command } from 'commander';
import { UserError } from '../../errors.ts';
import { readYamlFile } from '../read-yaml-file.ts';
import {
  countRule,
  distribution,
  previewRule,
  ruleSqlText,
  type RuleRequest,
} from '../../rules/rule-service.ts';
import { withDatabase } from '../context.ts';
import { createOutput } from '../output.ts';

/**
 * `baton rules count|preview|sql|distribution`: a rule from a YAML or JSON file (the DESIGN.md format)
 * run against the workspace. `--param name=value` gives parameters; `--json` prints the API's shapes
 * (`{ "count": 123 }` for count).
 */
interface RuleOptions {
  dimension?: string;
  param?: string[];
  now?: string;
  json?: boolean;
}

function request(file: string, opts: RuleOptions): RuleRequest {
  if (!opts.dimension) throw new UserError('Name the table the rule selects rows of: --dimension <table>.');
  const parameters: Record<string, unknown> = {};
  for (const pair of opts.param ?? []) {
    const at = pair.indexOf('=');
    if (at < 1) throw new UserError(`--param takes name=value, not "${pair}".`);
    const raw = pair.slice(at + 1);
    // Numbers and booleans as such; the rule's parameter types decide what the text must be.
    parameters[pair.slice(0, at)] = /^-?\d+(\.\d+)?$/.test(raw)
      ? Number(raw)
      : raw === 'true' || raw === 'false'
        ? raw === 'true'
        : raw;
  }
  let now: number | undefined;
  if (opts.now !== undefined) {
    now = Date.parse(opts.now);
    if (Number.isNaN(now)) throw new UserError(`--now takes an ISO 8601 date-time, not "${opts.now}".`);
  }
  return { dimension: opts.dimension, rule: readYamlFile(file), parameters, now };
}

const collect = (value: string, previous: string[] = []) => [...previous, value];

function withRuleOptions(command: Command): Command {
  return command
    .requiredOption('--dimension <table>', 'the table the rule selects rows of')
    .option('--param <name=value>', 'a value for a parameter of the rule (repeatable)', collect)
    .option('--now <datetime>', 'the time the rule treats as now (ISO 8601)')
    .option('--json', 'print the result as JSON');
}

function table(columns: string[], rows: Array<Record<string, unknown>>): string {
  const cells = rows.map((row) => columns.map((c) => (row[c] === null ? '' : String(row[c] as string))));
  const widths = columns.map((c, i) => Math.min(40, Math.max(c.length, ...cells.map((r) => r[i]!.length))));
  const line = (values: string[]) => values.map((v, i) => v.slice(0, 40).padEnd(widths[i]!)).join('  ');
  return [line(columns), line(widths.map((w) => '-'.repeat(w))), ...cells.map(line)].join('\n');
}

export function rulesCommand(program: Command): void {
  const rules = program.command('rules').description('count, preview or show the SQL of a rule file');

  withRuleOptions(rules.command('count <rule-file>').description('how many rows the rule selects')).action(
    async (file: string, opts: RuleOptions) => {
      const out = createOutput(opts.json === true);
      const count = await withDatabase((database) => countRule(database, request(file, opts)));
      out.result({ count }, `${count.toLocaleString('en-US')} ${opts.dimension} rows`);
    },
  );

  withRuleOptions(rules.command('preview <rule-file>').description('the first rows the rule selects'))
    .option('--columns <paths>', 'comma-separated fields to show (links allowed: store.region)')
    .option('--limit <n>', 'rows to show (1-1000)', '20')
    .action(async (file: string, opts: RuleOptions & { columns?: string; limit: string }) => {
      const out = createOutput(opts.json === true);
      const limit = Number(opts.limit);
      if (!Number.isInteger(limit)) throw new UserError('--limit takes a whole number.');
      const preview = await withDatabase((database) =>
        previewRule(database, {
          ...request(file, opts),
          columns: opts.columns?.split(',').map((c) => c.trim()),
          limit,
        }),
      );
      out.result(
        preview,
        table(
          preview.columns.map((c) => c.name),
          preview.rows,
        ),
      );
    });

  withRuleOptions(rules.command('sql <rule-file>').description('the SQL the rule runs, for reading')).action(
    async (file: string, opts: RuleOptions) => {
      const out = createOutput(opts.json === true);
      const text = await withDatabase((database) => ruleSqlText(database, request(file, opts)));
      out.result(text, text.readable);
    },
  );

  withRuleOptions(
    rules
      .command('distribution <rule-file> <field>')
      .description('the most frequent values of a field among the selected rows'),
  ).action(async (file: string, field: string, opts: RuleOptions) => {
    const out = createOutput(opts.json === true);
    const spread = await withDatabase((database) =>
      distribution(database, { ...request(file, opts), field }),
    );
    const rows = spread.values.map((v) => ({
      value: v.value ?? '(empty)',
      count: v.count,
      percent: `${v.percent}%`,
    }));
    const note = spread.partial ? `\n(the ${spread.values.length} most frequent values only)` : '';
    out.result(
      spread,
      `${table(['value', 'count', 'percent'], rows)}\n${spread.total.toLocaleString('en-US')} rows${note}`,
    );
  });
}
