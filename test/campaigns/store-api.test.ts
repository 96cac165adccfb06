import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import {
  exportCampaign,
  getCampaignDocument,
  listCampaigns,
  saveCampaign,
} from '../../src/campaigns/store.ts';
import { DEMO_SCHEMA_FILE } from '../../src/data/demo/load-demo.ts';
import type { Issue } from '../../src/errors.ts';
import { applySchema } from '../../src/schema/migrate.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { startApi, type ApiCall } from '../helpers/http.ts';

interface ErrorBody {
  error: { message: string; issues: Issue[] };
}

const exampleText = readFileSync(
  new URL('../../examples/retail/campaigns/spring-sale.yaml', import.meta.url),
  'utf8',
);
const example = parseYaml(exampleText) as Record<string, unknown>;

describeEachDatabase('campaign documents in the workspace', (t) => {
  let api: Awaited<ReturnType<typeof startApi>>;
  beforeAll(async () => {
    await applySchema(t.database, parseSchemaText(readFileSync(DEMO_SCHEMA_FILE, 'utf8')));
    api = await startApi(t);
  });
  afterAll(async () => {
    await api?.close();
  });
  const call = <T = ErrorBody>(method: string, path: string, init?: Parameters<ApiCall>[2]) =>
    api.call<T>(method, path, init);

  it('saves a document and exports it back unchanged (lossless round trip)', async () => {
    const { created } = await saveCampaign(t.database, example);
    expect(created).toBe(true);
    expect(await getCampaignDocument(t.database, 'spring-sale')).toEqual(example);
    const exported = await exportCampaign(t.database, 'spring-sale');
    expect(parseYaml(exported)).toEqual(example);
    // Applying the export again changes nothing but the time.
    expect((await saveCampaign(t.database, parseYaml(exported))).created).toBe(false);
    expect(await getCampaignDocument(t.database, 'spring-sale')).toEqual(example);
    expect((await listCampaigns(t.database)).map((c) => [c.id, c.status, c.activities, c.tags])).toEqual([
      ['spring-sale', 'draft', 8, ['promo', 'spring']],
    ]);
  });

  it('writes nothing when a document is invalid', async () => {
    const broken = {
      ...example,
      id: 'broken',
      activities: { a: { type: 'split', input: 'nowhere', segments: [] } },
    };
    await expect(saveCampaign(t.database, broken)).rejects.toThrow(/activities.a/);
    expect((await listCampaigns(t.database)).map((c) => c.id)).toEqual(['spring-sale']);
  });

  it('serves campaigns over HTTP: create, read as JSON or YAML, validate, replace, delete', async () => {
    const doc = { ...example, id: 'autumn', name: 'Autumn' };
    const created = await call<{ id: string; status: string }>('POST', '/api/campaigns', { json: doc });
    expect(created.status).toBe(201);
    expect(created.body).toMatchObject({ id: 'autumn', status: 'draft' });
    expect((await call('POST', '/api/campaigns', { json: doc })).status).toBe(409);
    const yaml = await call('GET', '/api/campaigns/autumn?format=yaml');
    expect(yaml.headers.get('content-type')).toMatch(/yaml/);
    expect(parseYaml(yaml.text)).toEqual(doc);
    const validated = await call<{
      valid: boolean;
      activities: Array<{ id: string; outputs: string[]; population: string }>;
    }>('POST', '/api/campaigns/autumn/validate');
    expect(validated.body.valid).toBe(true);
    expect(validated.body.activities.find((a) => a.id === 'by-tier')).toMatchObject({
      outputs: ['by-tier.gold', 'by-tier.sample', 'by-tier.complement'],
      population: 'profiles',
    });
    const invalid = await call('POST', '/api/campaigns/validate', {
      body: 'id: x\nname: X\nactivities:\n  a: { type: build-audience, dimension: nope }\n',
      headers: { 'content-type': 'application/yaml' },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.issues).toEqual([
      { path: 'activities.a.dimension', message: 'no table nope in the workspace' },
    ]);
    const replaced = await call<{ name: string }>('PUT', '/api/campaigns/autumn', {
      json: { ...doc, name: 'Autumn sale' },
    });
    expect(replaced.body.name).toBe('Autumn sale');
    expect((await call('PUT', '/api/campaigns/autumn', { json: { ...doc, id: 'other' } })).status).toBe(400);
    const listed = await call<{ campaigns: Array<{ id: string }> }>('GET', '/api/campaigns?search=autumn');
    expect(listed.body.campaigns.map((c) => c.id)).toEqual(['autumn']);
    expect((await call('DELETE', '/api/campaigns/autumn')).status).toBe(204);
    expect((await call('GET', '/api/campaigns/autumn')).status).toBe(404);
    const palette = await call<{ activities: Array<{ type: string; category: string }> }>(
      'GET',
      '/api/activities',
    );
    expect(palette.body.activities).toHaveLength(21);
  });

  it('starts a test run over HTTP and serves its status, rows and logs', async () => {
    const doc = {
      id: 'tiny',
      name: 'Tiny',
      activities: {
        all: { type: 'build-audience', dimension: 'profiles', rule: { and: [] } },
        parts: {
          type: 'split',
          input: 'all',
          segments: [{ label: 'gold', filter: { field: 'loyalty', op: 'eq', value: 'gold' } }],
          complement: true,
        },
        mail: { type: 'email', input: 'parts.gold', subject: 'Hi', html: '<p>Hi</p>' },
      },
    };
    expect((await call('POST', '/api/campaigns', { json: doc })).status).toBe(201);
    const started = await call<{ run: string; status: string }>('POST', '/api/campaigns/tiny/test-runs', {
      json: {},
    });
    expect(started.status).toBe(202);
    type RunBody = { status: string; counts: Record<string, number>; tasks: Record<string, string> };
    let status: RunBody | undefined;
    // The run executes in a worker thread: poll, for up to 30 s.
    for (let i = 0; i < 600; i++) {
      status = (await call<RunBody>('GET', `/api/runs/${started.body.run}`)).body;
      if (status.status !== 'running') break;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    expect(status).toMatchObject({
      status: 'done',
      counts: { all: 0, 'parts.gold': 0, 'parts.complement': 0 },
      tasks: { mail: 'done' },
    });
    const rows = await call<{ count: number; rows: unknown[] }>(
      'GET',
      `/api/runs/${started.body.run}/transitions/parts.gold/rows?limit=5`,
    );
    expect(rows.body).toMatchObject({ count: 0, rows: [] });
    expect((await call('GET', `/api/runs/${started.body.run}/transitions/parts.nope/rows`)).status).toBe(404);
    const logs = await call<{ logs: Array<{ activity: string; message: string }> }>(
      'GET',
      `/api/runs/${started.body.run}/logs`,
    );
    expect(
      logs.body.logs.some((l) => l.activity === 'mail' && l.message === 'test run: would send 0 of 0'),
    ).toBe(true);
    expect((await call('GET', '/api/runs/00000000-0000-0000-0000-000000000000')).status).toBe(404);
  });
});
