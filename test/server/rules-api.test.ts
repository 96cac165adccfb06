import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Issue } from '../../src/errors.ts';
import type { Distribution, RulePreview, RuleSqlText } from '../../src/rules/rule-service.ts';
import type { SavedFilter } from '../../src/rules/saved-filters.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { loadHarness } from '../helpers/expressions.ts';
import { startApi, type ApiCall } from '../helpers/http.ts';

interface ErrorBody {
  error: { message: string; issues: Issue[] };
}

describeEachDatabase('rules and filters API', (t) => {
  let api: Awaited<ReturnType<typeof startApi>>;
  beforeAll(async () => {
    await loadHarness(t);
    api = await startApi(t);
  });
  afterAll(async () => {
    await api?.close();
  });
  const call = <T = ErrorBody>(method: string, path: string, init?: Parameters<ApiCall>[2]) =>
    api.call<T>(method, path, init);

  const rule = { and: [{ field: 'i', op: 'gt', value: 0 }, { exists: 'items' }] };

  it('counts, previews, shows SQL and distributes, from JSON or YAML bodies', async () => {
    expect((await call('POST', '/api/rules/count', { json: { dimension: 't', rule } })).body).toEqual({
      count: 3,
    });
    const yaml =
      'dimension: t\nrule:\n  and:\n    - { field: i, op: gt, value: 0 }\n    - { exists: items }\n';
    const fromYaml = await call('POST', '/api/rules/count', {
      body: yaml,
      headers: { 'content-type': 'application/yaml' },
    });
    expect(fromYaml.body).toEqual({ count: 3 });
    const preview = await call<RulePreview>('POST', '/api/rules/preview', {
      json: { dimension: 't', rule, columns: ['id', 'ref.name'], limit: 2 },
    });
    expect(preview.body.rows).toEqual([
      { id: 1, 'ref.name': 'North store' },
      { id: 6, 'ref.name': 'North store' },
    ]);
    const text = await call<RuleSqlText>('POST', '/api/rules/sql', { json: { dimension: 't', rule } });
    expect(text.body.readable).toMatch(/EXISTS \(SELECT 1 FROM/);
    const spread = await call<Distribution>('POST', '/api/rules/distribution', {
      json: { dimension: 't', field: 'b' },
    });
    expect(spread.body).toMatchObject({ field: 'b', total: 8, partial: false });
    expect(spread.body.values.map((v) => [v.value, v.count])).toEqual([
      [false, 3],
      [true, 3],
      [null, 2],
    ]);
  });

  it('answers 400 with every problem and its path, and 404 for a missing table', async () => {
    const bad = await call('POST', '/api/rules/count', {
      json: {
        dimension: 't',
        rule: {
          or: [
            { field: 'x', op: 'eq', value: 1 },
            { expr: 'Length(', op: 'gt', value: 1 },
          ],
        },
      },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.error.issues.map((i) => i.path)).toEqual(['rule.or[0].field', 'rule.or[1].expr']);
    const missing = await call('POST', '/api/rules/count', { json: { dimension: 'nope', rule } });
    expect(missing.status).toBe(404);
    const noRule = await call('POST', '/api/rules/count', { json: { dimension: 't' } });
    expect(noRule.status).toBe(400);
    expect(noRule.body.error.message).toMatch(/needs a rule/);
    const injection = await call('POST', '/api/rules/count', {
      json: { dimension: 't', rule: { field: 's', op: 'eq', value: "x'); DROP TABLE data_t; --" } },
    });
    expect(injection.body).toEqual({ count: 0 });
    expect(
      (await call('POST', '/api/rules/count', { json: { dimension: 't', rule: { and: [] } } })).body,
    ).toEqual({ count: 8 });
  });

  it('lists the functions, operators and date presets', async () => {
    const catalogue = await call<{
      operators: string[];
      functions: Array<{ name: string; category: string }>;
    }>('GET', '/api/rules/functions');
    expect(catalogue.body.operators).toContain('notLike');
    expect(catalogue.body.functions.map((f) => f.name)).toEqual(
      expect.arrayContaining(['Sum', 'Iif', 'Coalesce']),
    );
    const presets = await call<{ presets: Array<{ id: string; expr: string }> }>('GET', '/api/rules/presets');
    expect(presets.body.presets.map((p) => p.id)).toContain('days-ago-30');
  });

  it('saves, lists, applies with parameters, updates and deletes filters', async () => {
    const created = await call<SavedFilter & ErrorBody>('POST', '/api/filters', {
      json: {
        label: 'Recent, positive',
        description: 'i above a threshold, seen since a date',
        dimension: 't',
        rule: {
          and: [
            { field: 'i', op: 'gt', value: { param: 'min' } },
            { field: 'ts', op: 'gte', value: { param: 'since' } },
          ],
        },
        parameters: [{ name: 'since', type: 'datetime', label: 'Seen since', default: '2020-01-01' }],
        favorite: true,
      },
    });
    expect(created.status).toBe(201);
    expect(created.body.parameters).toEqual([
      { name: 'since', type: 'datetime', label: 'Seen since', default: '2020-01-01' },
      { name: 'min', type: 'integer' },
    ]);
    const id = created.body.id;
    const duplicate = await call('POST', '/api/filters', {
      json: { label: 'Recent, positive', dimension: 't', rule: { and: [] } },
    });
    expect(duplicate.status).toBe(409);
    const invalid = await call('POST', '/api/filters', {
      json: {
        label: '',
        dimension: 't',
        rule: { field: 'nope', op: 'eq', value: 1 },
        parameters: [{ name: 'x', type: 'money' }],
      },
    });
    expect(invalid.status).toBe(400);
    expect(invalid.body.error.issues.map((i) => i.path)).toEqual(['label', 'parameters[0].type']);

    const listed = await call<{ filters: SavedFilter[] }>('GET', '/api/filters?dimension=t&search=recent');
    expect(listed.body.filters.map((f) => f.id)).toEqual([id]);
    expect(
      (await call<{ filters: SavedFilter[] }>('GET', '/api/filters?favorite=false')).body.filters,
    ).toEqual([]);

    const needsMin = await call('POST', '/api/rules/count', { json: { filter: id } });
    expect(needsMin.status).toBe(400);
    expect(needsMin.body.error.issues).toEqual([
      { path: 'parameters.min', message: 'the rule uses parameter min (integer); give it a value' },
    ]);
    expect(
      (await call('POST', '/api/rules/count', { json: { filter: id, parameters: { min: 0 } } })).body,
    ).toEqual({ count: 4 });
    expect(
      (
        await call('POST', '/api/rules/count', {
          json: { filter: id, parameters: { min: -100, since: '1990-01-01' } },
        })
      ).body,
    ).toEqual({ count: 6 });

    const updated = await call<SavedFilter>('PUT', `/api/filters/${id}`, {
      json: { shared: true, label: 'Renamed' },
    });
    expect(updated.body).toMatchObject({ id, label: 'Renamed', shared: true, favorite: true });
    expect((await call<SavedFilter>('GET', `/api/filters/${id}`)).body.label).toBe('Renamed');
    expect((await call('DELETE', `/api/filters/${id}`)).status).toBe(204);
    expect((await call('GET', `/api/filters/${id}`)).status).toBe(404);
    expect((await call('DELETE', `/api/filters/${id}`)).status).toBe(404);
  });
});
