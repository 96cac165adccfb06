import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import type { DemoLoadResult } from '../../src/data/demo/load-demo.ts';
import { listImports } from '../../src/data/import/import-history.ts';
import type { ImportReport } from '../../src/data/import/types.ts';
import { countRows, readRows, tableRowCounts } from '../../src/data/table-rows.ts';
import { introspectDataTables } from '../../src/db/introspect.ts';
import type { Issue } from '../../src/errors.ts';
import type { ErSummary } from '../../src/schema/er-summary.ts';
import { applySchema, type SchemaChangeResult } from '../../src/schema/migrate.ts';
import { parseSchemaText, schemaToDocument } from '../../src/schema/parse.ts';
import { loadSchema } from '../../src/schema/store.ts';
import { countRule } from '../../src/rules/rule-service.ts';
import { baton, json, ROOT, settingsOf } from '../helpers/cli.ts';
import { describeEachDatabase, kindsUnderTest, type TestDatabase } from '../helpers/databases.ts';

/**
 * The `baton` command as people and scripts run it (test/helpers/cli.ts). Effects are checked in the
 * database itself.
 */

const RETAIL = 'examples/retail/baton.yaml';
const retailText = readFileSync(path.join(ROOT, RETAIL), 'utf8');

let files = '';
beforeAll(() => {
  files = mkdtempSync(path.join(tmpdir(), 'baton-cli-'));
});
afterAll(() => rmSync(files, { recursive: true, force: true }));

/** Writes a file into this run's temporary folder and gives its path. */
function file(name: string, content: string): string {
  const where = path.join(files, name);
  mkdirSync(path.dirname(where), { recursive: true });
  writeFileSync(where, content);
  return where;
}

/** Files of one database's suites, in a folder of their own: concurrent suites never rewrite what another reads. */
function ownFiles(t: TestDatabase): (name: string, content: string) => string {
  return (name, content) => file(path.join(t.database.kind, name), content);
}

// Every CLI run is a new Node process (about 1.5 s of CPU each): the suites, each on its own database, run
// concurrently, and the steps within a suite in order.
describe.concurrent('baton CLI', { timeout: 120_000 }, () => {
  describe('arguments and files checked before any database is opened', () => {
    it.sequential(
      'prints help, refuses bad option values, and reports unreadable or invalid schema files (exit 1)',
      async () => {
        // A data folder that must stay absent: none of these commands may open (and so create) the database.
        const dataDir = path.join(files, 'never-created');
        const settings = { BATON_DATA_DIR: dataDir };
        const csv = file('one.csv', 'id\n1\n');
        const invalid = file(
          'invalid.yaml',
          retailText.replace(
            'store: { table: stores, cardinality: many-to-one, on: { store_id: id } }',
            'store: { table: shops, cardinality: many-to-one, on: { store_id: id } }',
          ),
        );
        const broken = file('broken.yaml', 'tables:\n  stores:\n    primaryKey: id\n    primaryKey: name\n');
        const missing = path.join(files, 'missing.yaml');
        const [help, maxErrors, badFile, syntax, noFile] = await Promise.all([
          baton(['--help'], settings),
          baton(['import', 'stores', csv, '--max-errors', 'x', '--json'], settings),
          baton(['schema', 'apply', invalid], settings),
          baton(['schema', 'apply', broken, '--json'], settings),
          baton(['schema', 'apply', missing], settings),
        ]);

        expect(help.code).toBe(0);
        expect(help.stdout).toMatch(/^Usage: baton /);
        for (const command of ['start', 'server', 'schema', 'import', 'demo'])
          expect(help.stdout).toMatch(new RegExp(`^  ${command}\\b`, 'm'));

        // With --json the error is also one JSON document on stdout; the message always goes to stderr.
        expect(maxErrors).toMatchObject({
          code: 1,
          stderr: 'error: --max-errors must be a whole number, not "x".\n',
        });
        expect(json(maxErrors)).toEqual({
          error: { message: '--max-errors must be a whole number, not "x".', issues: [] },
        });

        expect(badFile.code).toBe(1);
        expect(badFile.stdout).toBe('');
        expect(badFile.stderr).toMatch(
          /^error: The workspace schema in \S+invalid\.yaml is invalid:\n {2}- tables\.profiles\.links\.store\.table: links to unknown table "shops"\n/,
        );
        expect(syntax.code).toBe(1);
        expect(syntax.stderr).toContain(
          `error: The YAML in ${broken} is invalid:\n  - line 4, column 5: duplicate name: `,
        );
        const syntaxJson = json<{ error: { message: string; issues: Issue[] } }>(syntax);
        expect(syntaxJson.error.issues.map((i) => i.path)).toEqual(['line 4, column 5']);

        expect(noFile).toMatchObject({
          code: 1,
          stdout: '',
          stderr: `error: Cannot read ${missing}: no such file.\n`,
        });

        expect(existsSync(dataDir)).toBe(false);
      },
    );
  });

  describe.runIf(kindsUnderTest().includes('postgres'))('an unreachable PostgreSQL', () => {
    it.sequential('exits 1 naming DATABASE_URL, and never prints the password', async () => {
      const dataDir = path.join(files, 'unused');
      const [plain, withPassword] = await Promise.all([
        baton(['schema', 'show'], {
          BATON_DATA_DIR: dataDir,
          DATABASE_URL: 'postgres://nobody@127.0.0.1:1/x',
        }),
        baton(['schema', 'show', '--json'], {
          BATON_DATA_DIR: dataDir,
          DATABASE_URL: 'postgres://u:secret@127.0.0.1:1/x',
        }),
      ]);
      expect(plain.code).toBe(1);
      expect(plain.stderr).toMatch(
        /^error: Cannot connect to PostgreSQL at postgres:\/\/nobody@127\.0\.0\.1:1\/x: .*Check DATABASE_URL/,
      );
      expect(plain.stderr).not.toContain('internal error');
      expect(withPassword.code).toBe(1);
      expect(withPassword.stderr).toContain('postgres://u:***@127.0.0.1:1/x');
      expect(withPassword.stderr).toContain('DATABASE_URL');
      expect(withPassword.stderr + withPassword.stdout).not.toContain('secret');
      expect(json<{ error: { message: string } }>(withPassword).error.message).toMatch(
        /^Cannot connect to PostgreSQL/,
      );
    });
  });

  describeEachDatabase('baton schema', (t) => {
    const own = ownFiles(t);
    /** retail without stores.opened_on: applying it drops a column. */
    let dropped = '';
    beforeAll(() => {
      dropped = own('dropped.yaml', retailText.replace('      opened_on: date\n', ''));
    });

    it.sequential('schema apply creates the tables and prints the version and steps as JSON', async () => {
      const run = await baton(['schema', 'apply', RETAIL, '--json'], settingsOf(t));
      expect(run.code).toBe(0);
      expect(run.stderr).toBe('');
      const result = json<SchemaChangeResult>(run);
      expect(result).toMatchObject({ version: 1, changed: true, dryRun: false });
      expect(result.steps.filter((s) => s.kind === 'create-table').map((s) => s.table)).toEqual([
        'profiles',
        'purchases',
        'products',
        'stores',
      ]);
      expect(result.summary).toMatch(/no data loss$/);
      expect((await loadSchema(t.database))?.version).toBe(1);
      expect([...(await introspectDataTables(t.database)).keys()].sort()).toEqual([
        'products',
        'profiles',
        'purchases',
        'stores',
      ]);
    });

    it.sequential(
      'a dry run and a refused destructive change leave the schema as it is; schema show prints it',
      async () => {
        const [dry, refused, shownJson, shownYaml] = await Promise.all([
          baton(['schema', 'apply', dropped, '--dry-run', '--json'], settingsOf(t)),
          baton(['schema', 'apply', dropped], settingsOf(t)),
          baton(['schema', 'show', '--json'], settingsOf(t)),
          baton(['schema', 'show', '--yaml'], settingsOf(t)),
        ]);
        expect(dry.code).toBe(0);
        expect(json<SchemaChangeResult>(dry)).toMatchObject({
          version: 2,
          dryRun: true,
          steps: [{ kind: 'drop-column', table: 'stores', column: 'opened_on', destructive: true }],
          summary: expect.stringMatching(/DATA LOSS$/) as string,
        });

        expect(refused.code).toBe(1);
        expect(refused.stdout).toBe('');
        expect(refused.stderr).toContain('drop column stores.opened_on');
        expect(refused.stderr).toContain('Re-run with --allow-drop');

        expect(shownJson.code).toBe(0);
        const er = json<ErSummary & { version: number }>(shownJson);
        expect(er.version).toBe(1);
        expect(er.tables.map((x) => [x.name, x.rowCount])).toEqual([
          ['profiles', 0],
          ['purchases', 0],
          ['products', 0],
          ['stores', 0],
        ]);
        expect(er.links).toContainEqual({
          from: 'profiles',
          name: 'purchases',
          to: 'purchases',
          cardinality: 'one-to-many',
          on: [{ from: 'id', to: 'profile_id' }],
        });
        expect(er.links).toHaveLength(5);

        expect(shownYaml.code).toBe(0);
        expect(parseYaml(shownYaml.stdout)).toEqual(schemaToDocument(parseSchemaText(retailText)));

        expect((await loadSchema(t.database))?.version).toBe(1);
        expect([...(await introspectDataTables(t.database)).get('stores')!.columns]).toContain('opened_on');
      },
    );

    it.sequential('--allow-drop applies the destructive change', async () => {
      const run = await baton(['schema', 'apply', dropped, '--allow-drop', '--json'], settingsOf(t));
      expect(run.code).toBe(0);
      expect(json<SchemaChangeResult>(run)).toMatchObject({
        version: 2,
        changed: true,
        dryRun: false,
        steps: [{ kind: 'drop-column', column: 'opened_on' }],
      });
      expect((await loadSchema(t.database))?.version).toBe(2);
      expect([...(await introspectDataTables(t.database)).get('stores')!.columns]).toEqual([
        'id',
        'name',
        'region',
        'country',
      ]);
    });
  });

  describeEachDatabase('baton import', (t) => {
    const own = ownFiles(t);
    beforeAll(async () => {
      await applySchema(t.database, parseSchemaText(retailText));
    });
    const names = async (): Promise<Array<[unknown, unknown]>> =>
      (await readRows(t.database, 'profiles')).rows.map((r) => [r.id, r.first_name]);
    const imp = (args: string[]) => baton(['import', ...args, '--json'], settingsOf(t));

    it.sequential('inserts, upserts and applies change capture (cdc), with the counts of each', async () => {
      const insert = await imp([
        'profiles',
        own(
          'p-insert.csv',
          'id,email,first_name,loyalty,opted_in_email\n1,a@example.com,Ann,gold,true\n2,b@example.com,Bob,silver,no\n3,c@example.com,Cy,,1\n',
        ),
        '--mode',
        'insert',
      ]);
      expect(insert.code).toBe(0);
      expect(insert.stderr).toBe('');
      expect(json<ImportReport>(insert)).toMatchObject({
        table: 'profiles',
        fileName: 'p-insert.csv',
        mode: 'insert',
        status: 'succeeded',
        rowsRead: 3,
        inserted: 3,
        updated: 0,
        rejectedRows: 0,
      });
      expect(await names()).toEqual([
        [1, 'Ann'],
        [2, 'Bob'],
        [3, 'Cy'],
      ]);

      const upsert = await imp([
        'profiles',
        own('p-upsert.csv', 'id,first_name\n2,Bobby\n4,Dee\n'),
        '--mode',
        'upsert',
      ]);
      expect(upsert.code).toBe(0);
      expect(json<ImportReport>(upsert)).toMatchObject({
        mode: 'upsert',
        status: 'succeeded',
        rowsRead: 2,
        inserted: 1,
        updated: 1,
      });
      expect(await names()).toEqual([
        [1, 'Ann'],
        [2, 'Bobby'],
        [3, 'Cy'],
        [4, 'Dee'],
      ]);
      // Columns the file does not have keep their values.
      expect((await readRows(t.database, 'profiles')).rows[1]).toMatchObject({
        email: 'b@example.com',
        loyalty: 'silver',
        opted_in_email: false,
      });

      const cdc = await imp([
        'profiles',
        own('p-cdc.csv', 'id,_change,first_name\n1,d,\n3,u,Cyrus\n5,u,Eve\n2,d,\n2,u,Bob again\n9,d,\n'),
        '--mode',
        'cdc',
      ]);
      expect(cdc.code).toBe(0);
      expect(json<ImportReport>(cdc)).toMatchObject({
        mode: 'cdc',
        status: 'succeeded',
        rowsRead: 6,
        inserted: 1,
        updated: 2,
        deleted: 1,
        notFound: 1,
        duplicates: 1,
      });
      expect(await names()).toEqual([
        [2, 'Bob again'],
        [3, 'Cyrus'],
        [4, 'Dee'],
        [5, 'Eve'],
      ]);

      const [last] = await listImports(t.database, { table: 'profiles', limit: 1 });
      expect(last).toMatchObject({
        id: json<ImportReport>(cdc).id,
        fileName: 'p-cdc.csv',
        mode: 'cdc',
        status: 'succeeded',
        deleted: 1,
      });
    });

    it.sequential(
      'a file with rejected rows exits 1 with a failed report and writes nothing; --max-errors 2 lets it through',
      async () => {
        const bad = own(
          'purchases-bad.csv',
          'id,profile_id,amount,purchased_at\n1,2,9.99,2026-01-01T10:00:00Z\n2,2,ten,2026-01-02\n3,x,1,2026-01-03\n',
        );
        const refused = await imp(['purchases', bad]);
        expect(refused.code).toBe(1);
        const report = json<ImportReport>(refused);
        expect(report).toMatchObject({
          status: 'failed',
          rejectedRows: 1,
          inserted: 0,
          committedRows: 0,
        });
        expect(report.rejections).toEqual([
          {
            line: 3,
            column: 'amount',
            value: 'ten',
            reason: 'expected a decimal number with a dot, such as 12.50',
          },
        ]);
        expect(report.message).toBe(
          '1 row(s) rejected, more than --max-errors 0 allows; nothing was written.',
        );
        expect(await countRows(t.database, 'purchases')).toBe(0);

        const tolerated = await imp(['purchases', bad, '--max-errors', '2']);
        expect(tolerated.code).toBe(0);
        expect(json<ImportReport>(tolerated)).toMatchObject({
          status: 'succeeded',
          rowsRead: 3,
          inserted: 1,
          rejectedRows: 2,
        });
        expect(json<ImportReport>(tolerated).rejections.map((r) => [r.line, r.column])).toEqual([
          [3, 'amount'],
          [4, 'profile_id'],
        ]);
        expect((await readRows(t.database, 'purchases')).rows).toEqual([
          {
            id: 1,
            profile_id: 2,
            product_id: null,
            store_id: null,
            quantity: null,
            amount: 9.99,
            purchased_at: '2026-01-01T10:00:00.000Z',
          },
        ]);
      },
    );

    it.sequential('--map maps a CSV header to a column, and "header=" ignores one', async () => {
      const mapped = await imp([
        'profiles',
        own('p-mapped.csv', 'Id,E-mail,Notes\n6,f@example.com,call back\n'),
        '--map',
        'E-mail=email',
        '--map',
        'Notes=',
      ]);
      expect(mapped.code).toBe(0);
      expect(json<ImportReport>(mapped)).toMatchObject({ status: 'succeeded', inserted: 1 });
      expect((await readRows(t.database, 'profiles')).rows.find((r) => r.id === 6)).toMatchObject({
        email: 'f@example.com',
        first_name: null,
      });
    });

    it.sequential(
      '--delimiter tab reads a tab-separated file, and --dry-run counts without writing',
      async () => {
        const tsv = await imp([
          'stores',
          own('stores.tsv', 'id\tname\tregion\n1\tMilano, Centro\tNord\n2\tRoma\tCentro\n'),
          '--delimiter',
          'tab',
        ]);
        expect(tsv.code).toBe(0);
        expect(json<ImportReport>(tsv)).toMatchObject({ status: 'succeeded', inserted: 2 });
        // The option is really applied: a comma-separated file read as tab-separated has one field per line.
        const wrong = await imp(['stores', own('stores.csv', 'id,name\n3,Torino\n'), '--delimiter', 'tab']);
        expect(wrong.code).toBe(1);
        expect(json<{ error: { issues: Issue[] } }>(wrong).error.issues).toContainEqual({
          path: 'header',
          message: 'no field for the primary key column "id" of stores',
        });

        const dry = await imp([
          'stores',
          own('stores-dry.csv', 'id,name\n1,Renamed\n3,Torino\n'),
          '--dry-run',
        ]);
        expect(dry.code).toBe(0);
        expect(json<ImportReport>(dry)).toMatchObject({
          dryRun: true,
          status: 'succeeded',
          inserted: 1,
          updated: 1,
          message: 'dry run: nothing was written',
        });
        expect((await readRows(t.database, 'stores')).rows.map((r) => [r.id, r.name, r.region])).toEqual([
          [1, 'Milano, Centro', 'Nord'],
          [2, 'Roma', 'Centro'],
        ]);
      },
    );

    it.sequential('an unknown table exits 1 and names the tables there are', async () => {
      const run = await baton(['import', 'nope', own('any.csv', 'id\n1\n')], settingsOf(t));
      expect(run).toMatchObject({
        code: 1,
        stdout: '',
        stderr: 'error: Unknown table "nope". The workspace has: profiles, purchases, products, stores.\n',
      });
    });
  });

  describeEachDatabase('baton demo', (t) => {
    let first: DemoLoadResult | undefined;
    const args = ['demo', '--profiles', '300', '--as-of', '2026-01-15', '--json'];

    it.sequential('creates the demo workspace and prints its row counts', async () => {
      const run = await baton(args, settingsOf(t));
      expect(run.code).toBe(0);
      first = json<DemoLoadResult>(run);
      expect(first).toMatchObject({ schemaVersion: 1, seed: 'baton-demo', asOf: '2026-01-15' });
      expect(Object.keys(first.rows)).toEqual(['stores', 'products', 'profiles', 'purchases']);
      expect(first.rows.profiles).toBe(300);
      // The example campaigns come with the demo, as drafts, ready for a test run.
      expect((first as DemoLoadResult & { campaigns: string[] }).campaigns).toEqual([
        'spring-sale',
        'vip-event',
        'win-back',
      ]);
      for (const n of Object.values(first.rows)) expect(n).toBeGreaterThan(0);
      const stored = await loadSchema(t.database);
      expect(stored?.schema).toEqual(parseSchemaText(retailText));
      expect(await tableRowCounts(t.database, stored!.schema)).toEqual(first.rows);
    });

    it.sequential(
      'refuses to replace existing data without --force, and replaces it with --force',
      async () => {
        const refused = await baton(args, settingsOf(t));
        expect(refused.code).toBe(1);
        expect(json<{ error: { message: string } }>(refused).error.message).toContain('baton demo --force');
        expect(refused.stderr).toContain('--force');

        const forced = await baton([...args, '--force'], settingsOf(t));
        expect(forced.code).toBe(0);
        const second = json<DemoLoadResult>(forced);
        expect(second.rows).toEqual(first!.rows);
        expect(second.schemaVersion).toBe(1);
        const stored = await loadSchema(t.database);
        expect(await tableRowCounts(t.database, stored!.schema)).toEqual(first!.rows);
      },
    );
  });

  describeEachDatabase('baton rules', (t) => {
    const ruleText = [
      'and:',
      '  - { field: country, op: in, value: [IT, FR, US] }',
      '  - { aggregate: sum, of: purchases.amount, op: gte, value: { param: min } }',
      '',
    ].join('\n');
    let rule = '';

    it.sequential(
      'counts, previews, prints SQL and distributions of a rule file, with --json shapes',
      async () => {
        rule = file(`rules-${t.database.kind}/big-spenders.yaml`, ruleText);
        expect(
          (await baton(['demo', '--profiles', '300', '--as-of', '2026-01-15'], settingsOf(t))).code,
        ).toBe(0);
        const args = ['--dimension', 'profiles', '--param', 'min=200', '--json'];
        const count = await baton(['rules', 'count', rule, ...args], settingsOf(t));
        expect(count.code).toBe(0);
        const expected = await countRule(t.database, {
          dimension: 'profiles',
          rule: parseYaml(ruleText),
          parameters: { min: 200 },
        });
        expect(expected).toBeGreaterThan(0);
        expect(json(count)).toEqual({ count: expected });
        const preview = json<{ columns: Array<{ name: string }>; rows: unknown[] }>(
          await baton(
            ['rules', 'preview', rule, ...args, '--columns', 'id,country,store.region', '--limit', '3'],
            settingsOf(t),
          ),
        );
        expect(preview.columns.map((c) => c.name)).toEqual(['id', 'country', 'store.region']);
        expect(preview.rows).toHaveLength(Math.min(3, expected));
        const text = json<{ sql: string; readable: string }>(
          await baton(['rules', 'sql', rule, ...args], settingsOf(t)),
        );
        expect(text.readable).toMatch(/country" IN \(.*'IT'.*'FR'.*'US'/);
        const spread = json<{ total: number; values: Array<{ count: number }> }>(
          await baton(['rules', 'distribution', rule, 'loyalty', ...args], settingsOf(t)),
        );
        expect(spread.total).toBe(expected);
        expect(spread.values.reduce((sum, v) => sum + v.count, 0)).toBe(expected);
      },
    );

    it.sequential('exits 1 naming the problem: a bad rule, a missing parameter, a missing file', async () => {
      const bad = file(`rules-${t.database.kind}/bad.yaml`, '{ field: contry, op: eq, value: IT }');
      const run = await baton(['rules', 'count', bad, '--dimension', 'profiles', '--json'], settingsOf(t));
      expect(run.code).toBe(1);
      expect(json<{ error: { issues: Array<{ path: string; message: string }> } }>(run).error.issues).toEqual(
        [{ path: 'rule.field', message: 'profiles has no column "contry"' }],
      );
      const noParam = await baton(['rules', 'count', rule, '--dimension', 'profiles'], settingsOf(t));
      expect(noParam.code).toBe(1);
      expect(noParam.stderr).toContain(
        'parameters.min: the rule uses parameter min (decimal); give it a value',
      );
      const missing = await baton(
        ['rules', 'count', path.join(files, 'nope.yaml'), '--dimension', 'profiles'],
        settingsOf(t),
      );
      expect(missing.code).toBe(1);
      expect(missing.stderr).toContain('no such file');
    });
  });

  describeEachDatabase('baton apply, export, validate', (t) => {
    it.sequential(
      'applies a campaign file, validates it, exports it back unchanged, and refuses a broken one',
      async () => {
        await applySchema(t.database, parseSchemaText(retailText));
        const example = path.join(ROOT, 'examples/retail/campaigns/spring-sale.yaml');
        const validated = await baton(['validate', example], settingsOf(t));
        expect(validated.code).toBe(0);
        expect(validated.stdout).toContain('spring-sale is valid: 8 activities.');
        const applied = await baton(['apply', example, '--json'], settingsOf(t));
        expect(applied.code).toBe(0);
        expect(json(applied)).toMatchObject({
          id: 'spring-sale',
          status: 'draft',
          created: true,
          activities: 8,
        });
        const exported = await baton(['export', 'spring-sale'], settingsOf(t));
        expect(exported.code).toBe(0);
        expect(parseYaml(exported.stdout)).toEqual(parseYaml(readFileSync(example, 'utf8')));
        expect((await baton(['validate', 'spring-sale', '--json'], settingsOf(t))).code).toBe(0);

        const broken = file(
          `campaign-${t.database.kind}/broken.yaml`,
          'id: broken\nname: Broken\nactivities:\n  a: { type: split, segments: [] }\n',
        );
        const refused = await baton(['apply', broken, '--json'], settingsOf(t));
        expect(refused.code).toBe(1);
        expect(
          json<{ error: { issues: Array<{ path: string }> } }>(refused).error.issues.map((i) => i.path),
        ).toEqual(['activities.a.segments', 'activities.a.input']);
        const missing = await baton(['export', 'nope'], settingsOf(t));
        expect(missing.code).toBe(1);
        expect(missing.stderr).toContain('No campaign nope.');

        // A test run of the applied campaign, in DESIGN.md's --json shape: counts keyed by activity.port.
        const tested = await baton(
          ['run', 'spring-sale', '--test', '--json', '--now', '2026-11-01T00:00:00Z'],
          settingsOf(t),
        );
        expect(tested.code).toBe(0);
        const status = json<{
          status: string;
          counts: Record<string, number>;
          tasks: Record<string, string>;
        }>(tested);
        expect(status.status).toBe('done');
        expect(Object.keys(status.counts)).toEqual(
          expect.arrayContaining([
            'active',
            'not-recent',
            'by-tier.gold',
            'by-tier.sample',
            'by-tier.complement',
          ]),
        );
        expect(status.tasks['mail-gold']).toBe('done');
        expect((await baton(['run', 'nope', '--test'], settingsOf(t))).code).toBe(1);

        // Following and controlling the run: its status, its logs, a restart with the same counts.
        const run = (status as unknown as { run: string }).run;
        const shown = await baton(['status', run, '--json'], settingsOf(t));
        expect(json(shown)).toEqual(status);
        const restarted = await baton(['runs', 'restart', run, '--json'], settingsOf(t));
        expect(restarted.code).toBe(0);
        expect(json<typeof status>(restarted)).toMatchObject({ status: 'done', counts: status.counts });
        const logs = await baton(['runs', 'logs', run, '--json', '--text', 'restarted'], settingsOf(t));
        expect(json<{ logs: Array<{ message: string }> }>(logs).logs.map((l) => l.message)).toEqual([
          'run restarted',
        ]);
        const refused2 = await baton(['runs', 'resume', run], settingsOf(t));
        expect(refused2.code).toBe(1);
        expect(refused2.stderr).toContain('restart it to run it again');
      },
    );
  });
});
