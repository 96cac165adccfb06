import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { beforeAll, beforeEach, expect, it } from 'vitest';
import { getImport, listImports, rejectsCsv } from '../../src/data/import/import-history.ts';
import { importCsv } from '../../src/data/import/run-import.ts';
import type { ImportOptions } from '../../src/data/import/types.ts';
import { readRows } from '../../src/data/table-rows.ts';
import { applySchema } from '../../src/schema/migrate.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/databases.ts';

const SCHEMA = `
tables:
  people:
    primaryKey: id
    columns:
      id: integer
      name: string
      tier: { type: string, values: [gold, silver] }
      score: decimal
      active: boolean
      born: date
      seen_at: datetime
  pairs:
    primaryKey: [a, b]
    columns: { a: string, b: integer, note: string }
`;

const folder = mkdtempSync(path.join(tmpdir(), 'baton-import-'));
let fileCounter = 0;

function csv(text: string): string {
  const file = path.join(folder, `f${++fileCounter}.csv`);
  writeFileSync(file, text);
  return file;
}

async function rows(t: TestDatabase, table = 'people') {
  return (await readRows(t.database, table, { limit: 1000 })).rows;
}

async function clear(t: TestDatabase) {
  for (const table of ['people', 'pairs']) {
    await t.database.db.deleteFrom(t.database.dialect.dataTable(table) as never).execute();
  }
}

function run(t: TestDatabase, file: string, options: Partial<ImportOptions> = {}) {
  return importCsv(t.database, { table: 'people', file, ...options });
}

describeEachDatabase('CSV import', (t) => {
  beforeAll(async () => {
    await applySchema(t.database, parseSchemaText(SCHEMA));
  });
  beforeEach(() => clear(t));

  it('inserts typed values and reads them back exactly', async () => {
    const report = await run(
      t,
      csv(
        'id,name,tier,score,active,born,seen_at\n' +
          '1,Ann,gold,12.50,yes,2000-02-29,2026-03-01T09:30:00+02:00\n' +
          '2,"",,,0,,\n' +
          '3,,silver,-0.5,TRUE,1999-12-31,2026-03-01 07:30:00.250\n',
      ),
      { mode: 'insert' },
    );
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 3,
      inserted: 3,
      rejectedRows: 0,
      committedRows: 3,
    });
    expect(await rows(t)).toEqual([
      {
        id: 1,
        name: 'Ann',
        tier: 'gold',
        score: 12.5,
        active: true,
        born: '2000-02-29',
        seen_at: '2026-03-01T07:30:00.000Z',
      },
      { id: 2, name: '', tier: null, score: null, active: false, born: null, seen_at: null },
      {
        id: 3,
        name: null,
        tier: 'silver',
        score: -0.5,
        active: true,
        born: '1999-12-31',
        seen_at: '2026-03-01T07:30:00.250Z',
      },
    ]);
  });

  it('keeps edge values: 64-bit integers, long strings, unicode', async () => {
    const long = 'x'.repeat(200_000);
    const report = await run(
      t,
      csv(
        'id,name\n' +
          `9223372036854775807,"${long}"\n` +
          '-9223372036854775808,"Zoë 🎉 שלום 東京 ""quoted"""\n' +
          '9007199254740993,"line1\nline2\ttab"\n',
      ),
      { mode: 'insert' },
    );
    expect(report.status).toBe('succeeded');
    const got = await rows(t);
    expect(got.map((r) => r.id)).toEqual(['-9223372036854775808', '9007199254740993', '9223372036854775807']);
    expect(got[0]!.name).toBe('Zoë 🎉 שלום 東京 "quoted"');
    expect(got[1]!.name).toBe('line1\nline2\ttab');
    expect((got[2]!.name as string).length).toBe(200_000);
  });

  it('rejects bad values with line, column and reason, and writes nothing by default', async () => {
    const report = await run(
      t,
      csv(
        'id,name,tier,score,active,born,seen_at\n' +
          '1,ok,gold,1,1,2000-01-01,2026-01-01T00:00:00Z\n' +
          'x,bad id,,,,,\n' +
          '3,,bronze,1.2.3,maybe,2023-02-29,2026-13-01\n' +
          '9223372036854775808,big,,,,,\n' +
          ',no key,,,,,\n' +
          '6,short\n' +
          '7,"nul\u0000",,,,,\n',
      ),
      { mode: 'insert', dryRun: true },
    );
    // A dry run reads the whole file and reports every rejected row.
    expect(report).toMatchObject({
      status: 'succeeded',
      dryRun: true,
      rowsRead: 7,
      rejectedRows: 6,
      inserted: 1,
    });
    expect(report.rejections.map((r) => [r.line, r.column, r.reason])).toEqual([
      [3, 'id', 'expected a whole number such as 42 or -7'],
      [4, 'tier', 'not one of the allowed values: gold, silver'],
      [4, 'score', 'expected a decimal number with a dot, such as 12.50'],
      [4, 'active', 'expected true/false, 1/0 or yes/no'],
      [4, 'born', 'expected a calendar date as YYYY-MM-DD'],
      [4, 'seen_at', 'expected an ISO 8601 date-time such as 2026-03-01T09:30:00Z'],
      [5, 'id', 'whole number out of the 64-bit range'],
      [6, 'id', 'missing primary key value'],
      [7, null, 'expected 7 fields as in the header, found 2'],
      [8, 'name', 'contains a NUL character, which the database cannot store'],
    ]);
    expect(await rows(t)).toEqual([]);

    const real = await run(t, csv('id,name\n1,a\nx,b\n3,c\n'), { mode: 'insert' });
    expect(real).toMatchObject({ status: 'failed', rejectedRows: 1, inserted: 0, committedRows: 0 });
    expect(real.message).toMatch(/more than --max-errors 0 allows; nothing was written/);
    expect(await rows(t)).toEqual([]);
  });

  it('--max-errors lets that many rows be rejected and writes the rest; one more aborts everything', async () => {
    const file = csv('id,name\n1,a\nx,b\n3,c\ny,d\n5,e\n');
    const allowed = await run(t, file, { mode: 'insert', maxErrors: 2 });
    expect(allowed).toMatchObject({ status: 'succeeded', inserted: 3, rejectedRows: 2, committedRows: 3 });
    expect((await rows(t)).map((r) => r.id)).toEqual([1, 3, 5]);
    await clear(t);
    const refused = await run(t, file, { mode: 'insert', maxErrors: 1 });
    expect(refused).toMatchObject({ status: 'failed', rejectedRows: 2, inserted: 0 });
    expect(await rows(t)).toEqual([]);
  });

  it('insert mode rejects keys already in the table or earlier in the file', async () => {
    await run(t, csv('id,name\n1,old\n'), { mode: 'insert' });
    const report = await run(t, csv('id,name\n2,new\n1,clash\n2,again\n4,ok\n'), {
      mode: 'insert',
      maxErrors: 5,
    });
    expect(report).toMatchObject({ status: 'succeeded', inserted: 2, rejectedRows: 2 });
    expect(report.rejections.map((r) => [r.line, r.value])).toEqual([
      [3, '1'],
      [4, '2'],
    ]);
    expect(report.rejections[0]!.reason).toMatch(/^duplicate key \(id = 1\)/);
    expect((await rows(t)).map((r) => [r.id, r.name])).toEqual([
      [1, 'old'],
      [2, 'new'],
      [4, 'ok'],
    ]);
  });

  it('insert mode finds every duplicate in a large file, whichever write path the batch takes', async () => {
    // 1,000 rows (SQLite writes them many per statement, PostgreSQL by COPY); three clash: one with a key
    // already in the table, two with earlier rows of the file, in different batches and statement groups.
    await run(t, csv('id,name\n500,old\n'), { mode: 'insert' });
    const lines = ['id,name'];
    for (let id = 1; id <= 1000; id++) lines.push(`${id},n${id}`);
    lines.splice(40, 0, '7,again'); // line 41
    lines.splice(800, 0, '999,early'); // line 801: the first 999, so the later one is the duplicate
    const file = csv(`${lines.join('\n')}\n`);
    for (const batchSize of [undefined, 100]) {
      await clear(t);
      await run(t, csv('id,name\n500,old\n'), { mode: 'insert' });
      const report = await run(t, file, { mode: 'insert', maxErrors: 10, batchSize });
      expect(report).toMatchObject({ status: 'succeeded', rowsRead: 1002, inserted: 999, rejectedRows: 3 });
      expect(report.rejections.map((r) => [r.line, r.value])).toEqual([
        [41, '7'],
        [502, '500'],
        [1002, '999'],
      ]);
      const stored = await rows(t);
      expect(stored).toHaveLength(1000);
      expect(stored.find((r) => r.id === 500)?.name).toBe('old');
      expect(stored.find((r) => r.id === 7)?.name).toBe('n7');
      expect(stored.find((r) => r.id === 999)?.name).toBe('early');
    }
  });

  it('upsert inserts and updates by key, the last row per key wins, unmapped columns are kept', async () => {
    await run(t, csv('id,name,tier,score\n1,Ann,gold,5\n2,Bob,silver,6\n'), { mode: 'insert' });
    const report = await run(t, csv('id,name\n2,Bobby\n3,Cy\n3,Cyril\n'), { mode: 'upsert' });
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 3,
      inserted: 1,
      updated: 1,
      duplicates: 1,
    });
    expect((await rows(t)).map((r) => [r.id, r.name, r.tier, r.score])).toEqual([
      [1, 'Ann', 'gold', 5],
      [2, 'Bobby', 'silver', 6],
      [3, 'Cyril', null, null],
    ]);
  });

  it('re-importing the same file with upsert is idempotent', async () => {
    const file = csv('id,name,score\n1,a,1.5\n2,b,2.5\n3,c,3.5\n');
    const first = await run(t, file);
    const before = await rows(t);
    const second = await run(t, file);
    expect(first).toMatchObject({ mode: 'upsert', inserted: 3, updated: 0 });
    expect(second).toMatchObject({ inserted: 0, updated: 3 });
    expect(await rows(t)).toEqual(before);
  });

  it('delete mode removes listed keys and counts the ones not found', async () => {
    await run(t, csv('id,name\n1,a\n2,b\n3,c\n'));
    const report = await run(t, csv('id\n1\n3\n9\n'), { mode: 'delete' });
    expect(report).toMatchObject({ status: 'succeeded', deleted: 2, notFound: 1 });
    expect((await rows(t)).map((r) => r.id)).toEqual([2]);
  });

  it('cdc applies u/d per row, last row per key wins, and ignores non-key fields of deletes', async () => {
    await run(t, csv('id,name\n1,a\n2,b\n3,c\n'));
    const report = await run(
      t,
      csv(
        '_change,id,name,score\nu,1,A,1\nd,2,ignored,not-a-number\nu,4,D,4\nd,4,,\nu,5,E,5\nd,3,,\nu,3,C again,3\nd,99,,\n',
      ),
      { mode: 'cdc' },
    );
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 8,
      inserted: 1,
      updated: 2,
      deleted: 1,
      notFound: 2,
      duplicates: 2,
    });
    expect((await rows(t)).map((r) => [r.id, r.name])).toEqual([
      [1, 'A'],
      [3, 'C again'],
      [5, 'E'],
    ]);
  });

  it('cdc rejects a missing or uppercase change value, and needs the _change field', async () => {
    const report = await run(t, csv('id,_change\n1,U\n2,\n3,x\n'), { mode: 'cdc', dryRun: true });
    expect(report.rejections.map((r) => [r.line, r.column, r.reason])).toEqual([
      [2, '_change', 'must be u (upsert) or d (delete) (lowercase)'],
      [3, '_change', 'must be u (upsert) or d (delete)'],
      [4, '_change', 'must be u (upsert) or d (delete)'],
    ]);
    await expect(run(t, csv('id,name\n1,a\n'), { mode: 'cdc' })).rejects.toThrow(
      /--mode cdc needs a "_change" field/,
    );
    await expect(run(t, csv('id,_change\n1,u\n'), { mode: 'upsert' })).rejects.toThrow(
      /only read with --mode cdc/,
    );
  });

  it('maps headers by normalised name or explicitly, and refuses unknown, doubled and keyless headers', async () => {
    const report = await run(t, csv('ID,Name ,E-mail,Notes\n1,Ann,a@x.io,n\n'), {
      mapping: { 'E-mail': 'tier', Notes: null },
      maxErrors: 1,
      dryRun: true,
    });
    expect(report.rejections.map((r) => [r.column, r.value])).toEqual([['tier', 'a@x.io']]);
    const ok = await run(t, csv('ID,Full Name,Notes\n1,Ann,n\n'), {
      mapping: { 'Full Name': 'name', Notes: '' },
    });
    expect(ok.inserted).toBe(1);
    expect((await rows(t))[0]).toMatchObject({ id: 1, name: 'Ann' });
    await expect(run(t, csv('id,nickname\n1,a\n'))).rejects.toThrow(
      /header.nickname: matches no column of people; map it with --map "nickname=<column>"/,
    );
    await expect(run(t, csv('id,name,name\n1,a,b\n'))).rejects.toThrow(
      /header.name: appears twice \(fields 2 and 3\)/,
    );
    await expect(run(t, csv('name\na\n'))).rejects.toThrow(/no field for the primary key column "id"/);
    await expect(run(t, csv('id,name\n1,a\n'), { mapping: { nope: 'name' } })).rejects.toThrow(
      /mapping.nope: the file has no column "nope"/,
    );
    // A refused header is recorded in the history as failed.
    const history = await listImports(t.database, { table: 'people', limit: 1 });
    expect(history[0]).toMatchObject({ status: 'failed', rowsRead: 0 });
  });

  it('reads ; and tab delimiters, a BOM, CRLF, and empty or header-only files', async () => {
    expect(await run(t, csv('\uFEFFid;name\r\n1;"a;b"\r\n'))).toMatchObject({ inserted: 1 });
    expect(await run(t, csv('id\tname\n2\tb\n'))).toMatchObject({ inserted: 1 });
    expect((await rows(t)).map((r) => r.name)).toEqual(['a;b', 'b']);
    expect(await run(t, csv(''))).toMatchObject({
      status: 'succeeded',
      rowsRead: 0,
      message: 'the file is empty: no header and no rows',
    });
    expect(await run(t, csv('id,name\n'))).toMatchObject({ status: 'succeeded', rowsRead: 0, inserted: 0 });
  });

  it('reports a broken quote with its line and rejects it', async () => {
    const report = await run(t, csv('id,name\n1,"ok"\n2,"x"y\n3,"never closed\n4,z\n'), { maxErrors: 5 });
    expect(report.rejections.map((r) => [r.line, r.reason])).toEqual([
      [3, 'unexpected text after the closing quote of field 2'],
      [4, 'unterminated quoted field starting on line 4'],
    ]);
    expect((await rows(t)).map((r) => r.id)).toEqual([1]);
  });

  it('batch commits keep the batches before an abort', async () => {
    const report = await run(t, csv('id,name\n1,a\n2,b\n3,c\n4,d\nx,e\n6,f\n'), {
      mode: 'insert',
      batchSize: 2,
    });
    expect(report).toMatchObject({ status: 'failed', committedRows: 4, inserted: 4 });
    expect(report.message).toMatch(/the 4 rows of earlier batches stay committed/);
    expect((await rows(t)).map((r) => r.id)).toEqual([1, 2, 3, 4]);
  });

  it('works on composite keys', async () => {
    const report = await importCsv(t.database, {
      table: 'pairs',
      file: csv('a,b,note\nx,1,one\nx,2,two\ny,1,three\nx,1,again\n'),
    });
    expect(report).toMatchObject({ inserted: 3, duplicates: 1 });
    expect((await rows(t, 'pairs')).map((r) => [r.a, r.b, r.note])).toEqual([
      ['x', 1, 'again'],
      ['x', 2, 'two'],
      ['y', 1, 'three'],
    ]);
    const refused = await importCsv(t.database, {
      table: 'pairs',
      file: csv('a,b,note\nx,1,dup\n'),
      mode: 'insert',
    });
    expect(refused.rejections[0]!.reason).toMatch(/^duplicate key \(a, b = x, 1\)/);
  });

  it('keeps the history and a rejects CSV that can be fixed and re-imported', async () => {
    const report = await run(t, csv('id,name,active\n1,a,yes\n2,"b, c",perhaps\nz,d,no\n'), { maxErrors: 5 });
    const stored = await getImport(t.database, report.id);
    expect(stored).toMatchObject({
      status: 'succeeded',
      rejectedRows: 2,
      inserted: 1,
      fileName: path.basename(stored.fileName),
    });
    expect(stored.rejections.map((r) => r.line)).toEqual([3, 4]);
    expect(await rejectsCsv(t.database, report.id)).toBe(
      'id,name,active,line,reason\n' +
        '2,"b, c",perhaps,3,"active: expected true/false, 1/0 or yes/no"\n' +
        'z,d,no,4,id: expected a whole number such as 42 or -7\n',
    );
  });

  it('reports progress and refuses a second import into the same table while one runs', async () => {
    const lines = ['id,name', ...Array.from({ length: 60_000 }, (_, i) => `${i + 1},n${i}`)];
    const file = csv(`${lines.join('\n')}\n`);
    const seen: number[] = [];
    const first = run(t, file, { onProgress: (p) => seen.push(p.rowsRead) });
    await expect(run(t, csv('id\n1\n'))).rejects.toThrow(/already running/);
    expect((await first).inserted).toBe(60_000);
    expect(seen.at(-1)).toBe(60_000);
  });

  it('reads in a worker thread with the same results, including rejections and the rejects CSV', async () => {
    const lines = [
      'id,name,active',
      ...Array.from({ length: 30_000 }, (_, i) => `${i + 1},n${i},${i % 10_000 === 7 ? 'maybe' : 'yes'}`),
    ];
    const file = csv(`${lines.join('\n')}\n`);
    const report = await run(t, file, { readInWorker: true, maxErrors: 3, batchSize: undefined });
    expect(report).toMatchObject({
      status: 'succeeded',
      rowsRead: 30_000,
      inserted: 29_997,
      rejectedRows: 3,
    });
    expect(report.rejections.map((r) => r.line)).toEqual([9, 10_009, 20_009]);
    expect((await rejectsCsv(t.database, report.id)).split('\n')[1]).toBe(
      '8,n7,maybe,9,"active: expected true/false, 1/0 or yes/no"',
    );
    // A header error raised inside the worker reaches the caller as the same user error.
    await expect(run(t, csv('id,nickname\n1,a\n'), { readInWorker: true })).rejects.toThrow(
      /header.nickname: matches no column of people/,
    );
  });

  it('a dry run counts what would happen and writes nothing', async () => {
    await run(t, csv('id,name\n1,a\n'));
    const report = await run(t, csv('_change,id,name\nu,1,b\nu,2,c\nd,1,\n'), { mode: 'cdc', dryRun: true });
    expect(report).toMatchObject({
      dryRun: true,
      status: 'succeeded',
      deleted: 1,
      inserted: 1,
      updated: 0,
      duplicates: 1,
    });
    expect((await rows(t)).map((r) => [r.id, r.name])).toEqual([[1, 'a']]);
  });
});
