import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { beforeAll, expect, it } from 'vitest';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { startRun } from '../../src/engine/run-campaign.ts';
import { transitionRows } from '../../src/engine/run-inspection.ts';
import { baton, settingsOf } from '../helpers/cli.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { HARNESS_NOW, loadHarness } from '../helpers/expressions.ts';
import { startApi } from '../helpers/http.ts';

/** The files folder over HTTP and the CLI, and a campaign loading what was put there. */
describeEachDatabase('files folder', (t) => {
  beforeAll(async () => {
    await loadHarness(t);
    await saveCampaign(t.database, {
      id: 'reads-upload',
      name: 'Reads an upload',
      activities: {
        codes: {
          type: 'load-file',
          file: 'codes.csv',
          columns: [
            { name: 'code', type: 'integer' },
            { name: 'label', type: 'string' },
          ],
        },
      },
    });
  });

  it('uploads, lists, replaces and deletes files that campaigns then load', async () => {
    const api = await startApi(t);
    try {
      const upload = (name: string, body: string) =>
        api.call('PUT', `/api/files/${name}`, { body, headers: { 'content-type': 'text/csv' } });
      expect((await upload('codes.csv', 'code,label\n1,one\n')).status).toBe(201);
      const replaced = await upload('codes.csv', 'code,label\n7,seven\n8,eight\n');
      expect(replaced.body).toMatchObject({ name: 'codes.csv', size: 27 });
      const listed = await api.call<{ files: Array<{ name: string; size: number }> }>('GET', '/api/files');
      expect(listed.body.files.map((f) => [f.name, f.size])).toEqual([['codes.csv', 27]]);

      const { run, finished } = await startRun(t.database, 'reads-upload', { now: HARNESS_NOW });
      expect((await finished).status).toBe('done');
      const rows = await transitionRows(t.database, run, 'codes', { limit: 10, offset: 0 });
      expect(rows.rows).toEqual([
        { _line: 2, code: 7, label: 'seven' },
        { _line: 3, code: 8, label: 'eight' },
      ]);

      for (const bad of ['..%2Fescape.csv', '.hidden', 'a%20b.csv']) {
        const refused = await upload(bad, 'x\n');
        expect(refused.status).toBe(400);
        expect(refused.text).toContain('is not a file name Baton keeps');
      }
      expect(existsSync(path.join(t.config.dataDir, 'escape.csv'))).toBe(false);
      expect((await api.call('DELETE', '/api/files/codes.csv')).status).toBe(204);
      expect((await api.call('DELETE', '/api/files/codes.csv')).status).toBe(404);
      expect((await api.call<{ files: unknown[] }>('GET', '/api/files')).body.files).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it('adds, lists and deletes files from the command line', async () => {
    const source = path.join(t.config.dataDir, 'outside.csv');
    writeFileSync(source, 'code,label\n5,five\n');
    const added = await baton(['files', 'add', source, '--name', 'codes.csv', '--json'], settingsOf(t));
    expect(added.code).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'codes.csv', size: 18 });
    expect(readFileSync(path.join(t.config.dataDir, 'files', 'codes.csv'), 'utf8')).toBe(
      'code,label\n5,five\n',
    );
    const listed = await baton(['files', '--json'], settingsOf(t));
    expect(
      (JSON.parse(listed.stdout) as { files: Array<{ name: string }> }).files.map((f) => f.name),
    ).toEqual(['codes.csv']);
    expect((await baton(['files', 'delete', 'codes.csv'], settingsOf(t))).code).toBe(0);
    const missing = await baton(['files', 'add', path.join(t.config.dataDir, 'nope.csv')], settingsOf(t));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('No file');
  });
});
