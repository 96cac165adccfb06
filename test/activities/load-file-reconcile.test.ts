import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { sql } from 'kysely';
import { beforeAll, describe, expect, it } from 'vitest';
import { checkCampaign } from '../../src/campaigns/document.ts';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { startRun } from '../../src/engine/run-campaign.ts';
import { runLogs, transitionRows } from '../../src/engine/run-inspection.ts';
import { workingTableRef } from '../../src/engine/working-tables.ts';
import { ValidationError } from '../../src/errors.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { loadDataset } from '../helpers/expressions.ts';

/**
 * load-file and reconcile run on both databases: CSV files written into the data folder's files/, read
 * with their declared types, then matched with the rows of a small customer table. Every expectation is
 * written out by hand from the fixtures below.
 */
const SCHEMA = parseSchemaText(`
tables:
  customers:
    primaryKey: id
    columns: { id: integer, email: string, first_name: string, country: string, score: decimal }
`);

const CUSTOMERS = [
  { id: 1, email: 'ann@x.io', first_name: 'Ann', country: 'FR', score: 5.5 },
  { id: 2, email: 'bob@x.io', first_name: 'Bob', country: 'IT', score: 35 },
  { id: 3, email: 'cid@x.io', first_name: 'Cid', country: 'FR', score: 1 },
  { id: 4, email: 'dan@x.io', first_name: 'Dan', country: null, score: null },
  { id: 5, email: 'ann@y.io', first_name: 'Ann', country: 'IT', score: 100 },
];

/** Lines 2-7: a stranger (3), Ann twice (2 and 5), a line without an email (6), Cid from another country (7). */
const PEOPLE = [
  'mail,name,land,pts,note',
  'ann@x.io,Ann,FR,10,first',
  'zed@x.io,Zed,FR,20,stranger',
  'bob@x.io,Bob,IT,30,',
  'ann@x.io,Ann,FR,40,again',
  ',Nobody,,50,no mail',
  'cid@x.io,Cid,DE,60,moved',
].join('\n');

const PEOPLE_COLUMNS = [
  { name: 'file_email', type: 'string', header: 'mail' },
  { name: 'file_name', type: 'string', header: 'name' },
  { name: 'land', type: 'string' },
  { name: 'pts', type: 'integer' },
];

const loadPeople = { type: 'load-file', file: 'people.csv', columns: PEOPLE_COLUMNS };
const CUSTOMER_COLUMNS = ['id', 'email', 'first_name', 'country', 'score'];
const FILE_COLUMNS = ['file_email', 'file_name', 'land', 'pts'];

describeEachDatabase('load-file and reconcile', (t) => {
  let files: string;
  let serial = 0;

  beforeAll(async () => {
    await loadDataset(t, SCHEMA, { customers: CUSTOMERS });
    files = path.join(t.database.dataDir, 'files');
    mkdirSync(path.join(files, 'partners'), { recursive: true });
    writeFileSync(path.join(files, 'people.csv'), `${PEOPLE}\n`);
  });

  /** Saves a campaign of these activities and runs it to the end. */
  async function run(activities: Record<string, unknown>) {
    const id = `lf-${++serial}`;
    await saveCampaign(t.database, { id, name: id, activities });
    const { run, finished } = await startRun(t.database, id);
    const status = await finished;
    const rows = async (transition: string) => {
      const page = await transitionRows(t.database, run, transition, { limit: 100, offset: 0 });
      return { columns: page.columns, rows: page.rows.map((r) => page.columns.map((c) => r[c])) };
    };
    const logs = async (activity: string) =>
      (await runLogs(t.database, run, { activity })).map((l) => l.message);
    /** The working table of a transition, for checking how values are stored. */
    const table = async (activity: string) => {
      const { working_table } = await t.database.db
        .selectFrom('run_transitions')
        .select('working_table')
        .where('run_id', '=', run)
        .where('activity', '=', activity)
        .executeTakeFirstOrThrow();
      return workingTableRef(t.database, working_table);
    };
    return { status, rows, logs, table };
  }

  it('reads every column type, empty cells as NULL, each row keyed by its line in the file', async () => {
    writeFileSync(
      path.join(files, 'partners', 'types.csv'),
      [
        'Code;Label;Qty;Price;Day;At;Flag;Unused',
        '1;"alpha; one";42;12.50;2026-03-01;2026-03-01T09:30:00Z;true;x',
        '2;"two',
        'lines";-7;0.1;2024-02-29;2026-03-01T10:00:00+01:00;no;y',
        '',
        '3;"";-9007199254740991;;;;;',
        '4;;0;-3;1999-12-31;2000-01-01 00:00:01.5;0;',
      ].join('\r\n'),
    );
    const { status, rows, table } = await run({
      load: {
        type: 'load-file',
        file: 'partners/types.csv',
        delimiter: ';',
        columns: [
          { name: 'code', type: 'integer', header: 'Code' },
          { name: 'label', type: 'string', header: 'Label' },
          // Found by its name once case is ignored: Qty.
          { name: 'qty', type: 'integer' },
          { name: 'price', type: 'decimal', header: 'Price' },
          { name: 'day', type: 'date', header: 'Day' },
          { name: 'at', type: 'datetime', header: 'At' },
          { name: 'flag', type: 'boolean', header: 'Flag' },
        ],
      },
    });
    expect(status).toMatchObject({ status: 'done', error: null });
    expect(status.counts.load).toBe(4);
    expect(await rows('load')).toEqual({
      columns: ['_line', 'code', 'label', 'qty', 'price', 'day', 'at', 'flag'],
      rows: [
        [2, 1, 'alpha; one', 42, 12.5, '2026-03-01', '2026-03-01T09:30:00.000Z', true],
        [3, 2, 'two\r\nlines', -7, 0.1, '2024-02-29', '2026-03-01T09:00:00.000Z', false],
        // Line 5 is blank; a quoted empty text is the empty string, unquoted empty cells are NULL.
        [6, 3, '', -9007199254740991, null, null, null, null],
        [7, 4, null, 0, -3, '1999-12-31', '2000-01-01T00:00:01.500Z', false],
      ],
    });
    if (t.database.kind === 'sqlite') {
      // Stored as SQLite stores each type: numbers as numbers, booleans as 0/1, dates and times as text.
      const stored = await sql<Record<string, string>>`SELECT typeof(_line) AS line, typeof(code) AS code,
        typeof(price) AS price, typeof(flag) AS flag, typeof(day) AS day, at FROM ${await table('load')}
        WHERE _line = 2`.execute(t.database.db);
      expect(stored.rows).toEqual([
        {
          line: 'integer',
          code: 'integer',
          price: 'real',
          flag: 'integer',
          day: 'text',
          at: '2026-03-01 09:30:00.000',
        },
      ]);
    }
  });

  describe('rejected lines', () => {
    beforeAll(() => {
      writeFileSync(
        path.join(files, 'bad.csv'),
        ['email,points', 'a@x.io,10', 'b@x.io,ten', 'c@x.io,5,extra', 'd@x.io,7', 'e@x.io,2026-01-01'].join(
          '\n',
        ),
      );
    });
    const columns = [
      { name: 'email', type: 'string' },
      { name: 'points', type: 'integer' },
    ];

    it('fail the activity on the first bad line by default, naming the line and the reason', async () => {
      const { status, rows } = await run({ load: { type: 'load-file', file: 'bad.csv', columns } });
      expect(status.status).toBe('failed');
      expect(status.tasks.load).toBe('failed');
      expect(status.error).toBe(
        'load: bad.csv, line 3, column points ("ten"): expected a whole number such as 42 or -7; with rejects: skip, such lines are left out',
      );
      await expect(rows('load')).rejects.toThrow(/no transition load/);
    });

    it('are left out and counted with rejects: skip, the first ones named in the log', async () => {
      const { status, rows, logs } = await run({
        load: { type: 'load-file', file: 'bad.csv', columns, rejects: 'skip' },
      });
      expect(status.status).toBe('done');
      expect((await rows('load')).rows).toEqual([
        [2, 'a@x.io', 10],
        [5, 'd@x.io', 7],
      ]);
      expect(await logs('load')).toContain(
        '3 line(s) rejected and left out (rejects: skip): line 3, column points ("ten"): expected a whole number such as 42 or -7; ' +
          'line 4: expected 2 fields as in the header, found 3; ' +
          'line 6, column points ("2026-01-01"): expected a whole number such as 42 or -7',
      );
    });
  });

  it('reads values in declared formats: dates, date-times, numbers with separators, yes/no words', async () => {
    writeFileSync(
      path.join(files, 'formats.csv'),
      [
        'day;at;amount;count;member',
        '31/12/2026;25/12/2026 18:30;1.234,56;1.000;oui',
        '1/2/2026;01/02/2026 08:05;-0,5;12;NON',
        ';;;;',
        '30/02/2026;01/02/2026 08:05;3,5;1;oui',
        '01/03/2026;01/02/2026 08:05;3.5;1;peut-être',
      ].join('\n'),
    );
    const { status, rows, logs } = await run({
      load: {
        type: 'load-file',
        file: 'formats.csv',
        delimiter: ';',
        rejects: 'skip',
        columns: [
          { name: 'day', type: 'date', format: 'DD/MM/YYYY' },
          { name: 'at', type: 'datetime', format: 'DD/MM/YYYY HH:mm' },
          { name: 'amount', type: 'decimal', format: '1.000,00' },
          { name: 'count', type: 'integer', format: '1.000' },
          { name: 'member', type: 'boolean', format: 'oui/non' },
        ],
      },
    });
    expect(status.status).toBe('done');
    expect((await rows('load')).rows).toEqual([
      [2, '2026-12-31', '2026-12-25T18:30:00.000Z', 1234.56, 1000, true],
      [3, '2026-02-01', '2026-02-01T08:05:00.000Z', -0.5, 12, false],
      [4, null, null, null, null, null],
    ]);
    // A day that does not exist is refused by the usual check once rewritten; a word not in the format too.
    const log = (await logs('load')).find((m) => m.startsWith('2 line(s) rejected'));
    expect(log).toContain('line 5, column day ("30/02/2026"): ');
    expect(log).toContain('line 6, column amount ("3.5"): expected a number written like 1.000,00');
    const refused = await saveCampaign(t.database, {
      id: 'lf-bad-format',
      name: 'bad format',
      activities: {
        load: {
          type: 'load-file',
          file: 'formats.csv',
          columns: [{ name: 'day', type: 'date', format: 'DD/MM' }],
        },
      },
    }).catch((e: unknown) => e);
    expect((refused as ValidationError).issues).toEqual([
      { path: 'activities.load.columns[0].format', message: 'the format DD/MM has no YYYY' },
    ]);
  });

  it('fails when a declared column is not in the header, naming it', async () => {
    const { status } = await run({
      load: {
        type: 'load-file',
        file: 'people.csv',
        columns: [
          { name: 'mail', type: 'string' },
          { name: 'phone', type: 'string', header: 'Phone number' },
        ],
      },
    });
    expect(status.status).toBe('failed');
    expect(status.error).toBe(
      "load: people.csv: The file's header does not fit the declared columns:\n" +
        '  - columns.phone: the file has no column "Phone number" (its header is: mail, name, land, pts, note)',
    );
  });

  it('fails on an empty file: the first line must be the header', async () => {
    writeFileSync(path.join(files, 'empty.csv'), '\n\n');
    const { status } = await run({ load: { ...loadPeople, file: 'empty.csv' } });
    expect(status.error).toBe('load: empty.csv is empty: its first line must be the header');
  });

  it('fails on a missing file, saying where to put it', async () => {
    const { status } = await run({ load: { ...loadPeople, file: 'nowhere/gone.csv' } });
    expect(status.status).toBe('failed');
    expect(status.error).toBe(
      `load: nowhere/gone.csv is not in the files folder: put it at ${path.join(files, 'nowhere/gone.csv')}`,
    );
  });

  it('refuses paths out of the files folder: when the campaign is checked, and through a link when it runs', async () => {
    for (const file of ['../baton.db', '/etc/passwd', 'partners/../../x.csv']) {
      await expect(
        saveCampaign(t.database, {
          id: 'escape',
          name: 'Escape',
          activities: { load: { ...loadPeople, file } },
        }),
      ).rejects.toMatchObject({ issues: [{ path: 'activities.load.file' }] });
    }
    const outside = path.join(t.database.dataDir, 'outside.csv');
    writeFileSync(outside, PEOPLE);
    symlinkSync(outside, path.join(files, 'link.csv'));
    const { status } = await run({ load: { ...loadPeople, file: 'link.csv' } });
    expect(status.status).toBe('failed');
    expect(status.error).toBe(
      `load: link.csv leads outside the files folder ${files} (through a link): refused`,
    );
  });

  it('reconciles on one pair: each customer once with its first line, the others on the complement', async () => {
    const { status, rows, logs } = await run({
      people: loadPeople,
      known: {
        type: 'reconcile',
        input: 'people',
        dimension: 'customers',
        on: [{ column: 'file_email', field: 'email' }],
      },
    });
    expect(status.status).toBe('done');
    expect(status.counts).toMatchObject({ people: 6, known: 3, 'known.complement': 2 });
    expect(await rows('known')).toEqual({
      columns: [...CUSTOMER_COLUMNS, ...FILE_COLUMNS],
      rows: [
        [1, 'ann@x.io', 'Ann', 'FR', 5.5, 'ann@x.io', 'Ann', 'FR', 10],
        [2, 'bob@x.io', 'Bob', 'IT', 35, 'bob@x.io', 'Bob', 'IT', 30],
        [3, 'cid@x.io', 'Cid', 'FR', 1, 'cid@x.io', 'Cid', 'DE', 60],
      ],
    });
    // The stranger and the line without an email (NULL matches nothing), with all the file's columns.
    expect(await rows('known.complement')).toEqual({
      columns: ['_line', ...FILE_COLUMNS],
      rows: [
        [3, 'zed@x.io', 'Zed', 'FR', 20],
        [6, null, 'Nobody', null, 50],
      ],
    });
    expect(await logs('known')).toEqual(
      expect.arrayContaining([
        "1 line(s) matched a customers row that an earlier line matched: merged into it (the first line's columns are kept)",
        '2 line(s) match no customers row: kept on the complement output',
      ]),
    );
  });

  it('reconciles on two pairs, all of which must match, and drops the rest when asked', async () => {
    const { status, rows, logs } = await run({
      people: loadPeople,
      known: {
        type: 'reconcile',
        input: 'people',
        dimension: 'customers',
        on: [
          { column: 'file_name', field: 'first_name' },
          { column: 'land', field: 'country' },
        ],
        keepUnreconciled: false,
      },
    });
    expect(status.status).toBe('done');
    expect(status.counts.known).toBe(2);
    expect(status.counts['known.complement']).toBeUndefined();
    // Ann from FR is customer 1, not 5 (Ann from IT); Cid is from FR, not DE.
    expect((await rows('known')).rows).toEqual([
      [1, 'ann@x.io', 'Ann', 'FR', 5.5, 'ann@x.io', 'Ann', 'FR', 10],
      [2, 'bob@x.io', 'Bob', 'IT', 35, 'bob@x.io', 'Bob', 'IT', 30],
    ]);
    expect(await logs('known')).toContain(
      '3 line(s) match no customers row: dropped (keepUnreconciled: false)',
    );
  });

  it('reconciles on whole numbers and dates, compared as their types', async () => {
    writeFileSync(
      path.join(files, 'ids.csv'),
      'cust,since\n1,2020-01-01\n3,\n99,2021-05-05\n 3 ,2022-02-02\n',
    );
    const { status, rows } = await run({
      ids: {
        type: 'load-file',
        file: 'ids.csv',
        columns: [
          { name: 'cust', type: 'integer' },
          { name: 'since', type: 'date' },
        ],
      },
      known: {
        type: 'reconcile',
        input: 'ids',
        dimension: 'customers',
        on: [{ column: 'cust', field: 'id' }],
      },
    });
    expect(status.status).toBe('done');
    expect((await rows('known')).rows).toEqual([
      [1, 'ann@x.io', 'Ann', 'FR', 5.5, 1, '2020-01-01'],
      [3, 'cid@x.io', 'Cid', 'FR', 1, 3, null],
    ]);
    expect((await rows('known.complement')).rows).toEqual([[4, 99, '2021-05-05']]);
  });

  it('reconciles by a rule whose parameters are the line’s columns, with a filter on the dimension', async () => {
    const { status, rows } = await run({
      people: loadPeople,
      // Same first name, and a score below the line's points: a line may match several customers.
      known: {
        type: 'reconcile',
        input: 'people',
        dimension: 'customers',
        rule: {
          and: [
            { field: 'first_name', op: 'eq', value: { param: 'file_name' } },
            { field: 'score', op: 'lt', value: { param: 'pts' } },
          ],
        },
      },
      // The filter leaves only customers of FR to match.
      french: {
        type: 'reconcile',
        input: 'people',
        dimension: 'customers',
        on: [{ column: 'file_email', field: 'email' }],
        filter: { field: 'country', op: 'eq', value: 'FR' },
      },
    });
    expect(status.status).toBe('done');
    // Line 2 (10 points) and line 5 (40) take Ann 1 (5.5), not Ann 5 (100); Bob's 35 is not below 30.
    expect((await rows('known')).rows).toEqual([
      [1, 'ann@x.io', 'Ann', 'FR', 5.5, 'ann@x.io', 'Ann', 'FR', 10],
      [3, 'cid@x.io', 'Cid', 'FR', 1, 'cid@x.io', 'Cid', 'DE', 60],
    ]);
    expect((await rows('known.complement')).rows.map((r) => r[0])).toEqual([3, 4, 6]);
    expect((await rows('french')).rows.map((r) => [r[0], r[8]])).toEqual([
      [1, 10],
      [3, 60],
    ]);
    expect((await rows('french.complement')).rows.map((r) => r[0])).toEqual([3, 4, 6]);
  });
});

describe('load-file and reconcile checks', () => {
  const problems = (activities: Record<string, unknown>): string[] => {
    try {
      checkCampaign(SCHEMA, { id: 'c', name: 'C', activities });
      return [];
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      return error.issues.map((i) => `${i.path}: ${i.message}`);
    }
  };
  const reconcile = (config: Record<string, unknown>) => ({
    people: loadPeople,
    known: { type: 'reconcile', input: 'people', dimension: 'customers', ...config },
  });

  it('accepts the documented shapes', () => {
    expect(problems(reconcile({ on: [{ column: 'file_email', field: 'email' }] }))).toEqual([]);
    expect(problems(reconcile({ rule: { field: 'score', op: 'lt', value: { param: 'pts' } } }))).toEqual([]);
  });

  it('names file columns, fields and parameters that do not fit', () => {
    expect(
      problems(
        reconcile({
          on: [
            { column: 'mail', field: 'email' },
            { column: 'pts', field: 'first_name' },
          ],
          filter: { field: 'country', op: 'eq', value: { param: 'nation' } },
        }),
      ),
    ).toEqual([
      'activities.known.on[0].column: no column "mail" (columns: file_email, file_name, land, pts)',
      'activities.known.on[1].field: first_name is a string; expected integer or decimal',
      "activities.known.filter.value.param: no parameter nation among the file's columns: file_email, file_name, land, pts",
    ]);
  });

  it('refuses a file column named like a column of the dimension, and the reserved _line', () => {
    expect(
      problems({
        people: { type: 'load-file', file: 'p.csv', columns: [{ name: 'email', type: 'string' }] },
        known: {
          type: 'reconcile',
          input: 'people',
          dimension: 'customers',
          on: [{ column: 'email', field: 'email' }],
        },
      }),
    ).toEqual([
      "activities.known: the file's column email is also a column of customers; give it another name in the load-file (its header can stay: { name: file_email, header: … })",
    ]);
    expect(
      problems({
        people: { type: 'load-file', file: 'p.csv', columns: [{ name: '_line', type: 'integer' }] },
      }),
    ).toEqual([
      'activities.people.columns[0].name: _line is the line number of each row; choose another name',
    ]);
  });
});
