import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse as parseYaml, stringify } from 'yaml';
import type { ImportSummary } from '../../src/data/import/import-history.ts';
import type { ImportReport, Rejection } from '../../src/data/import/types.ts';
import type { TableRowsPage } from '../../src/data/table-rows.ts';
import type { Issue } from '../../src/errors.ts';
import type { ErSummary } from '../../src/schema/er-summary.ts';
import type { SchemaChangeResult } from '../../src/schema/migrate.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { startApi, type ApiCall } from '../helpers/http.ts';

/**
 * The HTTP API over real HTTP: the app listens on a free port and every call goes through Node's `fetch`,
 * so content-type parsing, multipart uploads and status codes are exercised as a client sees them.
 */

interface ErrorBody {
  error: { message: string; issues: Issue[] };
}
interface Health {
  status: string;
  database: string;
  schemaVersion: number | null;
}
interface StoredSchemaBody {
  version: number;
  appliedAt: string;
  schema: unknown;
}
interface TableSummary {
  name: string;
  label: string | null;
  primaryKey: string[];
  columns: number;
  targeting: boolean;
  rowCount: number;
  lastImport: ImportSummary | null;
}
interface TableDetail {
  name: string;
  primaryKey: string[];
  columns: Array<{ name: string; type: string }>;
  rowCount: number;
  lastImport: ImportSummary | null;
}

/** The workspace of these tests, in the normalised form `GET /api/schema` gives back. */
const schemaDoc = {
  tables: {
    people: {
      label: 'People',
      primaryKey: 'id',
      columns: {
        id: 'integer',
        email: 'string',
        name: 'string',
        vip: 'boolean',
        born_on: 'date',
        joined_at: 'datetime',
        score: 'decimal',
        tier: { type: 'string', values: ['basic', 'gold'] },
      },
      targeting: { email: 'email' },
      links: { orders: { table: 'orders', cardinality: 'one-to-many', on: { id: 'person_id' } } },
    },
    orders: {
      primaryKey: 'id',
      columns: { id: 'integer', person_id: 'integer', total: 'decimal', placed_at: 'datetime' },
      links: { person: { table: 'people', cardinality: 'many-to-one', on: { person_id: 'id' } } },
    },
  },
};

function withPeopleColumn(name: string, type: string): typeof schemaDoc {
  const doc = structuredClone(schemaDoc);
  (doc.tables.people.columns as Record<string, unknown>)[name] = type;
  return doc;
}

/** 2^53 + 1: not representable as a JSON number, so the API must answer it as a string. */
const BIG_ID = '9007199254740993';

const PEOPLE_CSV = [
  'id,email,name,vip,born_on,joined_at,score,tier',
  '30,thirty@example.com,Thirty,yes,1990-02-28,2026-03-01T09:30:00+02:00,12.50,gold',
  '4,four@example.com,"Four, Jr.",0,2000-01-01,2026-01-15 08:00:00,7,basic',
  `${BIG_ID},big@example.com,Big,true,,2025-12-31T23:59:59.250Z,,`,
  '-1,"",Minus,false,1970-01-01,,-3.25,basic',
  '200,,Two hundred,no,2024-02-29,2024-02-29T12:00:00Z,0,gold',
  '',
].join('\n');

/** The rows of PEOPLE_CSV as the API shows them, in key order. */
const PEOPLE_ROWS = [
  {
    id: -1,
    email: '',
    name: 'Minus',
    vip: false,
    born_on: '1970-01-01',
    joined_at: null,
    score: -3.25,
    tier: 'basic',
  },
  {
    id: 4,
    email: 'four@example.com',
    name: 'Four, Jr.',
    vip: false,
    born_on: '2000-01-01',
    joined_at: '2026-01-15T08:00:00.000Z',
    score: 7,
    tier: 'basic',
  },
  {
    id: 30,
    email: 'thirty@example.com',
    name: 'Thirty',
    vip: true,
    born_on: '1990-02-28',
    joined_at: '2026-03-01T07:30:00.000Z',
    score: 12.5,
    tier: 'gold',
  },
  {
    id: 200,
    email: null,
    name: 'Two hundred',
    vip: false,
    born_on: '2024-02-29',
    joined_at: '2024-02-29T12:00:00.000Z',
    score: 0,
    tier: 'gold',
  },
  {
    id: BIG_ID,
    email: 'big@example.com',
    name: 'Big',
    vip: true,
    born_on: null,
    joined_at: '2025-12-31T23:59:59.250Z',
    score: null,
    tier: null,
  },
];

/** RFC 4180 reading, enough to check the rejects file: quoted fields, doubled quotes, `,` and line breaks in quotes. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch !== '"') field += ch;
      else if (text[i + 1] === '"') {
        field += '"';
        i++;
      } else quoted = false;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') {
      record.push(field);
      field = '';
    } else if (ch === '\n') {
      record.push(field);
      records.push(record);
      record = [];
      field = '';
    } else field += ch;
  }
  if (field !== '' || record.length > 0) records.push([...record, field]);
  return records;
}

describeEachDatabase('HTTP API', (t) => {
  let api: Awaited<ReturnType<typeof startApi>>;
  /** Every import that reached the importer, oldest first (the history must list them newest first). */
  const history: Array<{ table: string; status: string; id?: string }> = [];

  beforeAll(async () => {
    api = await startApi(t);
  });
  afterAll(async () => {
    await api?.close();
  });

  const call = <T = ErrorBody>(method: string, path: string, init?: Parameters<ApiCall>[2]) =>
    api.call<T>(method, path, init);

  const putYaml = (path: string, yaml: string) =>
    call<SchemaChangeResult & ErrorBody>('PUT', path, {
      body: yaml,
      headers: { 'content-type': 'application/yaml' },
    });
  const postCsv = (path: string, csv: string) =>
    call<ImportReport & ErrorBody>('POST', path, { body: csv, headers: { 'content-type': 'text/csv' } });
  const rows = async (table: string, query = '') =>
    (await call<TableRowsPage>('GET', `/api/tables/${table}/rows${query}`)).body;
  const rowCount = async (table: string) =>
    (await call<TableDetail>('GET', `/api/tables/${table}`)).body.rowCount;

  it('answers /healthz, and explains how to create a schema before there is one', async () => {
    const health = await call<Health>('GET', '/healthz');
    expect(health.status).toBe(200);
    expect(health.body).toEqual({
      status: 'ok',
      database: t.database.kind,
      schemaVersion: null,
      processes: { servers: 0, workers: 0 },
      scheduler: { leader: null },
    });

    for (const path of ['/api/schema', '/api/schema/er', '/api/tables', '/api/tables/people/rows']) {
      const missing = await call('GET', path);
      expect(missing.status, path).toBe(404);
      expect(missing.body.error.message, path).toMatch(
        /No workspace schema has been applied yet.*baton schema apply baton\.yaml/,
      );
    }
  });

  it('applies a schema sent as JSON', async () => {
    const applied = await call<SchemaChangeResult>('PUT', '/api/schema', { json: schemaDoc });
    expect(applied.status).toBe(200);
    expect(applied.body).toMatchObject({ version: 1, changed: true, dryRun: false });
    expect(applied.body.steps.filter((s) => s.kind === 'create-table').map((s) => s.table)).toEqual([
      'people',
      'orders',
    ]);
    expect(applied.body.summary).toMatch(/no data loss$/);

    expect((await call<Health>('GET', '/healthz')).body.schemaVersion).toBe(1);
    const stored = await call<StoredSchemaBody>('GET', '/api/schema');
    expect(stored.status).toBe(200);
    expect(stored.body.version).toBe(1);
    expect(stored.body.schema).toEqual(schemaDoc);
    expect(new Date(stored.body.appliedAt).getTime()).toBeGreaterThan(Date.now() - 60_000);
  });

  it('applies a schema sent as YAML, and a dry run changes nothing', async () => {
    const added = await putYaml('/api/schema', stringify(withPeopleColumn('city', 'string')));
    expect(added.status).toBe(200);
    expect(added.body).toMatchObject({ version: 2, changed: true, dryRun: false });
    expect(added.body.steps.map((s) => s.description)).toEqual(['add column people.city (string)']);

    const erBefore = await call<ErSummary & { version: number }>('GET', '/api/schema/er');
    expect(erBefore.body.version).toBe(2);
    const withCoupons = structuredClone(withPeopleColumn('city', 'string')) as {
      tables: Record<string, unknown>;
    };
    withCoupons.tables.coupons = { primaryKey: 'code', columns: { code: 'string', value: 'decimal' } };
    const dry = await putYaml('/api/schema?dryRun=true', stringify(withCoupons));
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({ version: 3, changed: true, dryRun: true });
    expect(dry.body.steps.map((s) => s.description)).toEqual(['create table coupons (2 columns)']);
    const erAfter = await call<ErSummary & { version: number }>('GET', '/api/schema/er');
    expect(erAfter.body).toEqual(erBefore.body);
    expect(erAfter.body.tables.map((x) => x.name)).toEqual(['people', 'orders']);
    expect((await call<Health>('GET', '/healthz')).body.schemaVersion).toBe(2);
  });

  it('refuses a destructive change with 409 unless allowDrop=true', async () => {
    const yaml = stringify(schemaDoc);
    const refused = await putYaml('/api/schema', yaml);
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain('drop column people.city');
    expect(refused.body.error.message).toContain('?allowDrop=true');
    expect(refused.body.error.issues).toEqual([
      { path: 'tables.people', message: 'drop column people.city and its values' },
    ]);
    expect((await call<StoredSchemaBody>('GET', '/api/schema')).body.version).toBe(2);
    const er = await call<ErSummary>('GET', '/api/schema/er');
    expect(er.body.tables[0]!.columns.map((c) => c.name)).toContain('city');

    const dropped = await putYaml('/api/schema?allowDrop=true', yaml);
    expect(dropped.status).toBe(200);
    expect(dropped.body).toMatchObject({ version: 3, changed: true });
    expect(dropped.body.steps.map((s) => [s.kind, s.description, s.destructive])).toEqual([
      ['drop-column', 'drop column people.city and its values', true],
    ]);
    expect(dropped.body.summary).toMatch(/DATA LOSS$/);
    const stored = await call<StoredSchemaBody>('GET', '/api/schema');
    expect(stored.body).toMatchObject({ version: 3, schema: schemaDoc });
  });

  it('rejects an invalid schema with 400 and one issue per problem, each with its path', async () => {
    const invalid = {
      tables: {
        people: { primaryKey: 'id', columns: { id: 'integer', vip: 'bool' } },
        orders: {
          columns: { id: 'integer' },
          links: { person: { table: 'persons', cardinality: 'many-to-one', on: { id: 'id' } } },
        },
        'Bad-Name': { primaryKey: 'x', columns: { x: 'string' } },
      },
    };
    const answer = await call('PUT', '/api/schema', { json: invalid });
    expect(answer.status).toBe(400);
    expect(answer.body.error.message).toMatch(/^The workspace schema is invalid:/);
    expect(answer.body.error.issues.map((i) => i.path).sort()).toEqual([
      'tables.Bad-Name',
      'tables.orders.links.person.table',
      'tables.orders.primaryKey',
      'tables.people.columns.vip',
    ]);
    const byPath = new Map(answer.body.error.issues.map((i) => [i.path, i.message]));
    expect(byPath.get('tables.people.columns.vip')).toMatch(/^unknown type "bool"/);
    expect(byPath.get('tables.orders.links.person.table')).toBe('links to unknown table "persons"');

    const duplicate = await putYaml(
      '/api/schema',
      'tables:\n  people:\n    primaryKey: id\n    primaryKey: name\n',
    );
    expect(duplicate.status).toBe(400);
    expect(duplicate.body).toMatchObject({
      error: {
        message: expect.stringMatching(/^The YAML in the request body is invalid:/) as string,
        issues: [{ path: 'line 4, column 5' }],
      },
    });
    expect(duplicate.body.error.issues[0]!.message).toMatch(/^duplicate name: /);

    const badFlag = await call('PUT', '/api/schema?dryRun=maybe', { json: schemaDoc });
    expect(badFlag.status).toBe(400);
    expect(badFlag.body.error.issues.map((i) => i.path)).toEqual(['query.dryRun']);
    expect((await call<Health>('GET', '/healthz')).body.schemaVersion).toBe(3);
  });

  it('GET /api/schema?format=yaml gives YAML that applies again as no change', async () => {
    const answer = await call('GET', '/api/schema?format=yaml');
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toMatch(/^application\/yaml/);
    expect(parseYaml(answer.text)).toEqual(schemaDoc);
    const again = await putYaml('/api/schema', answer.text);
    expect(again.status).toBe(200);
    expect(again.body).toEqual({
      version: 3,
      changed: false,
      dryRun: false,
      steps: [],
      summary: expect.any(String) as string,
    });
    const badFormat = await call('GET', '/api/schema?format=xml');
    expect(badFormat.status).toBe(400);
    expect(badFormat.body.error.issues.map((i) => i.path)).toEqual(['query.format']);
  });

  it('lists the tables, and answers 404 for an unknown one', async () => {
    const list = await call<{ tables: TableSummary[] }>('GET', '/api/tables');
    expect(list.status).toBe(200);
    expect(list.body.tables).toEqual([
      {
        name: 'people',
        label: 'People',
        primaryKey: ['id'],
        columns: 8,
        targeting: true,
        rowCount: 0,
        lastImport: null,
      },
      {
        name: 'orders',
        label: null,
        primaryKey: ['id'],
        columns: 4,
        targeting: false,
        rowCount: 0,
        lastImport: null,
      },
    ]);
    const one = await call<TableDetail>('GET', '/api/tables/orders');
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({ name: 'orders', primaryKey: ['id'], rowCount: 0, lastImport: null });
    expect(one.body.columns.map((c) => `${c.name}:${c.type}`)).toEqual([
      'id:integer',
      'person_id:integer',
      'total:decimal',
      'placed_at:datetime',
    ]);

    for (const path of ['/api/tables/nope', '/api/tables/nope/rows', '/api/tables/nope/import']) {
      const unknown = path.endsWith('import') ? await postCsv(path, 'id\n1\n') : await call('GET', path);
      expect(unknown.status, path).toBe(404);
      expect(unknown.body.error.message, path).toBe(
        'Unknown table "nope". The workspace has: people, orders.',
      );
    }
  });

  it('imports a raw text/csv body, then shows the rows typed and in key order', async () => {
    const report = await postCsv('/api/tables/people/import?fileName=people.csv', PEOPLE_CSV);
    expect(report.status).toBe(200);
    expect(report.body).toMatchObject({
      table: 'people',
      fileName: 'people.csv',
      mode: 'upsert',
      dryRun: false,
      status: 'succeeded',
      rowsRead: 5,
      inserted: 5,
      updated: 0,
      deleted: 0,
      rejectedRows: 0,
      committedRows: 5,
      rejections: [],
    });
    history.push({ table: 'people', status: 'succeeded', id: report.body.id });

    const page = await rows('people', '?limit=10');
    expect(page.total).toBe(5);
    expect(page.columns.map((c) => c.type)).toEqual([
      'integer',
      'string',
      'string',
      'boolean',
      'date',
      'datetime',
      'decimal',
      'string',
    ]);
    expect(page.rows).toEqual(PEOPLE_ROWS);
    // The exact digits of 2^53 + 1 survive, as a string (as a number JSON would round it to ...992).
    expect(page.rows[4]!.id).toBe(BIG_ID);
  });

  it('pages rows with limit and offset, and refuses a bad limit', async () => {
    const pages = [
      await rows('people', '?limit=2'),
      await rows('people', '?limit=2&offset=2'),
      await rows('people', '?limit=2&offset=4'),
    ];
    expect(pages.map((p) => p.rows.map((r) => r.id))).toEqual([[-1, 4], [30, 200], [BIG_ID]]);
    expect(pages.map((p) => [p.limit, p.offset, p.total])).toEqual([
      [2, 0, 5],
      [2, 2, 5],
      [2, 4, 5],
    ]);
    expect((await rows('people', '?offset=5')).rows).toEqual([]);
    expect((await rows('people')).limit).toBe(50);

    for (const query of ['?limit=0', '?limit=abc', '?limit=1001', '?limit=2.5']) {
      const bad = await call('GET', `/api/tables/people/rows${query}`);
      expect(bad.status, query).toBe(400);
      expect(
        bad.body.error.issues.map((i) => i.path),
        query,
      ).toEqual(['query.limit']);
      expect(bad.body.error.message, query).toMatch(/^The request query is invalid:\n {2}- query\.limit: /);
    }
    const badOffset = await call('GET', '/api/tables/people/rows?offset=-1');
    expect(badOffset.status).toBe(400);
    expect(badOffset.body.error.issues.map((i) => i.path)).toEqual(['query.offset']);
  });

  it('imports a multipart file field, and mode=insert rejects keys that exist (422, nothing written)', async () => {
    const form = new FormData();
    const orders =
      'id,person_id,total,placed_at\n1,30,19.90,2026-02-01T10:00:00Z\n2,4,5,2026-02-02T11:00:00Z\n3,30,100.01,\n';
    form.append('file', new Blob([orders], { type: 'text/csv' }), 'orders.csv');
    const uploaded = await call<ImportReport>('POST', '/api/tables/orders/import?mode=insert', {
      body: form,
    });
    expect(uploaded.status).toBe(200);
    expect(uploaded.body).toMatchObject({
      table: 'orders',
      fileName: 'orders.csv',
      mode: 'insert',
      status: 'succeeded',
      rowsRead: 3,
      inserted: 3,
    });
    history.push({ table: 'orders', status: 'succeeded', id: uploaded.body.id });
    expect((await rows('orders')).rows).toEqual([
      { id: 1, person_id: 30, total: 19.9, placed_at: '2026-02-01T10:00:00.000Z' },
      { id: 2, person_id: 4, total: 5, placed_at: '2026-02-02T11:00:00.000Z' },
      { id: 3, person_id: 30, total: 100.01, placed_at: null },
    ]);

    const clash = 'id,person_id,total\n4,200,1.5\n3,200,2.5\n';
    const refused = await postCsv('/api/tables/orders/import?mode=insert', clash);
    expect(refused.status).toBe(422);
    expect(refused.body).toMatchObject({
      status: 'failed',
      mode: 'insert',
      rowsRead: 2,
      inserted: 0,
      rejectedRows: 1,
      committedRows: 0,
    });
    expect(refused.body.rejections).toEqual<Rejection[]>([
      {
        line: 3,
        column: 'id',
        value: '3',
        reason: 'duplicate key (id = 3): the table or an earlier row of the file already has it',
      },
    ]);
    history.push({ table: 'orders', status: 'failed', id: refused.body.id });
    expect(await rowCount('orders')).toBe(3);

    const tolerated = await postCsv('/api/tables/orders/import?mode=insert&maxErrors=1', clash);
    expect(tolerated.status).toBe(200);
    expect(tolerated.body).toMatchObject({
      status: 'succeeded',
      rowsRead: 2,
      inserted: 1,
      rejectedRows: 1,
      committedRows: 1,
    });
    history.push({ table: 'orders', status: 'succeeded', id: tolerated.body.id });
    expect((await rows('orders')).rows.map((r) => [r.id, r.total])).toEqual([
      [1, 19.9],
      [2, 5],
      [3, 100.01],
      [4, 1.5],
    ]);

    const noFile = new FormData();
    noFile.append('note', 'no file here');
    const empty = await call('POST', '/api/tables/orders/import', { body: noFile });
    expect(empty.status).toBe(400);
    expect(empty.body.error.message).toBe(
      'The multipart body has no file; send the CSV in a field named "file".',
    );
    const asJson = await call('POST', '/api/tables/orders/import', { json: { id: 9 } });
    expect(asJson.status).toBe(400);
    expect(asJson.body.error.message).toMatch(
      /^Send the CSV as the request body \(Content-Type: text\/csv\)/,
    );

    const badMode = await postCsv('/api/tables/orders/import?mode=merge', clash);
    expect(badMode.status).toBe(400);
    expect(badMode.body).toMatchObject({ error: { issues: [{ path: 'query.mode' }] } });
  });

  it('maps CSV headers to columns with mapping=JSON, updating only the mapped columns', async () => {
    const csv = 'Id,E-mail,Notes\n4,four@new.example,call back\n700,seven@example.com,\n';
    const mapping = encodeURIComponent(JSON.stringify({ 'E-mail': 'email', Notes: '' }));
    const mapped = await postCsv(`/api/tables/people/import?mapping=${mapping}`, csv);
    expect(mapped.status).toBe(200);
    expect(mapped.body).toMatchObject({
      status: 'succeeded',
      mode: 'upsert',
      rowsRead: 2,
      updated: 1,
      inserted: 1,
    });
    history.push({ table: 'people', status: 'succeeded', id: mapped.body.id });
    const page = await rows('people');
    expect(page.rows.find((r) => r.id === 4)).toEqual({ ...PEOPLE_ROWS[1], email: 'four@new.example' });
    expect(page.rows.find((r) => r.id === 700)).toEqual({
      id: 700,
      email: 'seven@example.com',
      name: null,
      vip: null,
      born_on: null,
      joined_at: null,
      score: null,
      tier: null,
    });

    const notJson = await postCsv(`/api/tables/people/import?mapping=${encodeURIComponent('[1]')}`, csv);
    expect(notJson.status).toBe(400);
    expect(notJson.body).toMatchObject({ error: { issues: [{ path: 'query.mapping' }] } });

    const unknownColumn = await postCsv(
      `/api/tables/people/import?mapping=${encodeURIComponent('{"E-mail":"mail","Notes":""}')}`,
      csv,
    );
    expect(unknownColumn.status).toBe(400);
    expect(unknownColumn.body.error.issues).toContainEqual({
      path: 'mapping.E-mail',
      message: 'people has no column "mail"',
    });
    history.push({ table: 'people', status: 'failed' });
    expect(await rowCount('people')).toBe(6);
  });

  it('reads a tab-separated file with delimiter=tab, and the option is really applied', async () => {
    const tsv = 'id\tperson_id\ttotal\tplaced_at\n10\t200\t42.5\t2026-01-31T23:00:00-01:00\n';
    const imported = await postCsv('/api/tables/orders/import?delimiter=tab', tsv);
    expect(imported.status).toBe(200);
    expect(imported.body).toMatchObject({ status: 'succeeded', inserted: 1 });
    history.push({ table: 'orders', status: 'succeeded', id: imported.body.id });
    expect((await rows('orders')).rows.at(-1)).toEqual({
      id: 10,
      person_id: 200,
      total: 42.5,
      placed_at: '2026-02-01T00:00:00.000Z',
    });

    // A comma-separated file read as tab-separated has one field per line: its header fits nothing.
    const wrong = await postCsv('/api/tables/orders/import?delimiter=tab', 'id,person_id\n11,4\n');
    expect(wrong.status).toBe(400);
    expect(wrong.body.error.issues).toContainEqual({
      path: 'header',
      message: 'no field for the primary key column "id" of orders',
    });
    history.push({ table: 'orders', status: 'failed' });
    expect(await rowCount('orders')).toBe(5);
  });

  it('dryRun=true counts what an import would do and writes nothing', async () => {
    const dry = await postCsv(
      '/api/tables/people/import?dryRun=true',
      'id,name\n4,Renamed\n600,Six hundred\n',
    );
    expect(dry.status).toBe(200);
    expect(dry.body).toMatchObject({
      dryRun: true,
      status: 'succeeded',
      rowsRead: 2,
      updated: 1,
      inserted: 1,
      message: 'dry run: nothing was written',
    });
    history.push({ table: 'people', status: 'succeeded', id: dry.body.id });
    const page = await rows('people');
    expect(page.total).toBe(6);
    expect(page.rows.find((r) => r.id === 4)?.name).toBe('Four, Jr.');
    expect(page.rows.some((r) => r.id === 600)).toBe(false);
  });

  let rejectedImport = '';
  const BAD_CSV = [
    'id,email,name,vip,born_on',
    '500,new@example.com,New,yes,1999-09-09',
    '30,"changed, surely",Thirty,maybe,1990-13-01',
    'x7,x@example.com,X,no,2000-01-01',
    '8,short@example.com,Short',
    '',
  ].join('\n');

  it('refuses a file with bad rows beyond maxErrors: 422 with each rejection, nothing written', async () => {
    const before = await rows('people');
    const answer = await postCsv('/api/tables/people/import?maxErrors=2&fileName=bad.csv', BAD_CSV);
    expect(answer.status).toBe(422);
    expect(answer.body).toMatchObject({
      fileName: 'bad.csv',
      status: 'failed',
      rowsRead: 4,
      rejectedRows: 3,
      inserted: 0,
      updated: 0,
      committedRows: 0,
      message: '3 row(s) rejected, more than --max-errors 2 allows; nothing was written.',
    });
    expect(answer.body.rejections).toEqual<Rejection[]>([
      { line: 3, column: 'vip', value: 'maybe', reason: 'expected true/false, 1/0 or yes/no' },
      { line: 3, column: 'born_on', value: '1990-13-01', reason: 'expected a calendar date as YYYY-MM-DD' },
      { line: 4, column: 'id', value: 'x7', reason: 'expected a whole number such as 42 or -7' },
      { line: 5, column: null, value: null, reason: 'expected 5 fields as in the header, found 3' },
    ]);
    rejectedImport = answer.body.id;
    history.push({ table: 'people', status: 'failed', id: answer.body.id });
    // The good row (500) and the valid fields of line 3 were not written either.
    expect(await rows('people')).toEqual(before);
  });

  it('lists the import history newest first, filters it by table, and shows one import with its rejections', async () => {
    const all = await call<{ imports: ImportSummary[] }>('GET', '/api/imports');
    expect(all.status).toBe(200);
    const newestFirst = [...history].reverse();
    expect(all.body.imports.map((i) => [i.table, i.status])).toEqual(
      newestFirst.map((h) => [h.table, h.status]),
    );
    newestFirst.forEach((h, i) => {
      if (h.id) expect(all.body.imports[i]!.id).toBe(h.id);
    });
    const started = all.body.imports.map((i) => i.startedAt);
    expect([...started].sort().reverse()).toEqual(started);

    const orders = await call<{ imports: ImportSummary[] }>('GET', '/api/imports?table=orders');
    expect(orders.body.imports.map((i) => i.status)).toEqual(
      newestFirst.filter((h) => h.table === 'orders').map((h) => h.status),
    );
    expect(new Set(orders.body.imports.map((i) => i.table))).toEqual(new Set(['orders']));
    const latest = await call<{ imports: ImportSummary[] }>('GET', '/api/imports?limit=1');
    expect(latest.body.imports.map((i) => i.id)).toEqual([rejectedImport]);

    const one = await call<ImportSummary & { rejections: Rejection[] }>(
      'GET',
      `/api/imports/${rejectedImport}`,
    );
    expect(one.status).toBe(200);
    expect(one.body).toMatchObject({
      id: rejectedImport,
      table: 'people',
      fileName: 'bad.csv',
      mode: 'upsert',
      dryRun: false,
      status: 'failed',
      rejectedRows: 3,
    });
    expect(one.body.rejections.map((r) => [r.line, r.column])).toEqual([
      [3, 'vip'],
      [3, 'born_on'],
      [4, 'id'],
      [5, null],
    ]);
    expect(one.body.finishedAt! >= one.body.startedAt).toBe(true);

    const lastOfPeople = (await call<TableDetail>('GET', '/api/tables/people')).body.lastImport;
    expect(lastOfPeople).toMatchObject({ id: rejectedImport, status: 'failed' });

    const missing = await call('GET', '/api/imports/00000000-0000-0000-0000-000000000000');
    expect(missing.status).toBe(404);
    expect(missing.body.error.message).toBe('No import with id 00000000-0000-0000-0000-000000000000.');
  });

  it('gives the rejected rows as CSV: the file header plus line and reason, one row per rejected record', async () => {
    const response = await call('GET', `/api/imports/${rejectedImport}/rejects.csv`);
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toMatch(/^text\/csv/);
    expect(response.headers.get('content-disposition')).toBe(
      `attachment; filename="rejects-${rejectedImport}.csv"`,
    );
    const text = response.text;
    expect(text.endsWith('\n')).toBe(true);
    expect(parseCsv(text)).toEqual([
      ['id', 'email', 'name', 'vip', 'born_on', 'line', 'reason'],
      [
        '30',
        'changed, surely',
        'Thirty',
        'maybe',
        '1990-13-01',
        '3',
        'vip: expected true/false, 1/0 or yes/no; born_on: expected a calendar date as YYYY-MM-DD',
      ],
      ['x7', 'x@example.com', 'X', 'no', '2000-01-01', '4', 'id: expected a whole number such as 42 or -7'],
      ['8', 'short@example.com', 'Short', '', '', '5', 'expected 5 fields as in the header, found 3'],
    ]);
    const missing = await call('GET', '/api/imports/nope/rejects.csv');
    expect(missing.status).toBe(404);
  });

  it('the ER summary counts the rows and gives each link its cardinality', async () => {
    const er = await call<ErSummary & { version: number }>('GET', '/api/schema/er');
    expect(er.status).toBe(200);
    expect(er.body.version).toBe(3);
    expect(er.body.tables.map((x) => [x.name, x.rowCount, x.primaryKey])).toEqual([
      ['people', 6, ['id']],
      ['orders', 5, ['id']],
    ]);
    expect(er.body.tables[0]!.targeting).toEqual([{ channel: 'email', address: 'email', optIn: null }]);
    expect(er.body.tables[0]!.columns.find((c) => c.name === 'tier')).toEqual({
      name: 'tier',
      type: 'string',
      label: null,
      values: ['basic', 'gold'],
    });
    expect(er.body.links).toEqual([
      {
        from: 'people',
        name: 'orders',
        to: 'orders',
        cardinality: 'one-to-many',
        on: [{ from: 'id', to: 'person_id' }],
      },
      {
        from: 'orders',
        name: 'person',
        to: 'people',
        cardinality: 'many-to-one',
        on: [{ from: 'person_id', to: 'id' }],
      },
    ]);
  });

  it('answers an unknown route with a 404 JSON error', async () => {
    const answer = await call('GET', '/api/nothing-here?x=1');
    expect(answer.status).toBe(404);
    expect(answer.headers.get('content-type')).toMatch(/^application\/json/);
    expect(answer.body).toEqual({ error: { message: 'No route GET /api/nothing-here?x=1.', issues: [] } });
    const wrongMethod = await call('DELETE', '/api/schema');
    expect(wrongMethod.status).toBe(404);
    expect(wrongMethod.body.error.message).toBe('No route DELETE /api/schema.');
  });
});
