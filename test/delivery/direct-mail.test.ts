import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { ledgerCounts } from '../../src/delivery/queue.ts';
import { startRun } from '../../src/engine/run-campaign.ts';
import { runLogs, transitionRows } from '../../src/engine/run-inspection.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { loadDataset } from '../helpers/expressions.ts';

/**
 * A live direct-mail send, end to end: the ledger excludes who cannot be reached, the extraction file
 * holds exactly the others with the chosen columns (a link's field, an enrichment's column), their
 * messages are sent, and the `sent` output carries them on. A test run writes nothing.
 */
const SCHEMA = parseSchemaText(`
tables:
  people:
    primaryKey: id
    columns: { id: integer, name: string, street: string, city_id: integer, ok: boolean }
    targeting:
      direct-mail: { address: street, optIn: ok }
    links:
      city: { table: cities, cardinality: many-to-one, on: { city_id: id } }
  cities:
    primaryKey: id
    columns: { id: integer, name: string, zip: string }
`);
const PEOPLE = [
  { id: 1, name: 'Ann, "the first"', street: '1 rue Haute', city_id: 1, ok: true },
  { id: 2, name: 'Bob', street: null, city_id: 1, ok: true },
  { id: 3, name: 'Cid', street: '3 Via Roma', city_id: 2, ok: false },
  { id: 4, name: 'Dan', street: '4 Main St', city_id: null, ok: true },
];
const CITIES = [
  { id: 1, name: 'Lyon', zip: '69001' },
  { id: 2, name: 'Roma', zip: '00100' },
];

describeEachDatabase('direct mail', (t) => {
  beforeAll(async () => {
    await loadDataset(t, SCHEMA, { cities: CITIES, people: PEOPLE });
    await saveCampaign(t.database, {
      id: 'letters',
      name: 'Letters',
      activities: {
        everyone: { type: 'build-audience', dimension: 'people' },
        named: { type: 'enrich', input: 'everyone', attributes: [{ name: 'shout', expr: 'Upper(name)' }] },
        post: { type: 'direct-mail', input: 'named', columns: ['name', 'street', 'city.zip', 'shout'] },
        after: { type: 'end', input: 'post.sent' },
      },
    });
  });

  it('writes nothing in a test run, and says what it would send', async () => {
    const { run, finished } = await startRun(t.database, 'letters');
    expect((await finished).status).toBe('done');
    const line = (await runLogs(t.database, run, { activity: 'post' })).find(
      (l) => l.fields.event === 'channel.preview',
    );
    expect(line?.fields).toMatchObject({
      wouldSend: 2,
      'excluded.no-address': 1,
      'excluded.not-opted-in': 1,
    });
    expect((await ledgerCounts(t.database, run, 'post')).byStatus).toEqual({});
  });

  it('writes the extraction of the recipients that can be reached, marks them sent and carries them on', async () => {
    const { run, finished } = await startRun(t.database, 'letters', { mode: 'live' });
    const status = await finished;
    expect(status).toMatchObject({ status: 'done', counts: { 'post.sent': 2 } });
    expect((await ledgerCounts(t.database, run, 'post')).byStatus).toEqual({ sent: 2, excluded: 2 });
    const file = (await runLogs(t.database, run, { activity: 'post' })).find(
      (l) => l.fields.event === 'direct-mail.file',
    )?.fields.file as string;
    expect(file).toContain(`${t.config.dataDir}/direct-mail/letters-post-${run.slice(0, 8)}.csv`);
    expect(readFileSync(file, 'utf8')).toBe(
      'name,street,city.zip,shout\n"Ann, ""the first""",1 rue Haute,69001,"ANN, ""THE FIRST"""\nDan,4 Main St,,DAN\n',
    );
    const sent = await transitionRows(t.database, run, 'post.sent', { limit: 10, offset: 0 });
    expect(sent.rows.map((r) => [r.id, r.shout])).toEqual([
      [1, 'ANN, "THE FIRST"'],
      [4, 'DAN'],
    ]);
  });
});
