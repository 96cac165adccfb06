import { readFileSync } from 'node:fs';
import { sql } from 'kysely';
import { expect, it } from 'vitest';
import { introspectDataTables } from '../../src/db/introspect.ts';
import { applySchema } from '../../src/schema/migrate.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { loadSchema } from '../../src/schema/store.ts';
import { describeEachDatabase } from '../helpers/databases.ts';

const retail = readFileSync(new URL('../../examples/retail/baton.yaml', import.meta.url), 'utf8');

const KEYED_BY_CODE =
  'tables:\n  coupons:\n    primaryKey: code\n    columns: { code: string, value: decimal }\n';

describeEachDatabase('schema migration: primary keys', (t) => {
  it('a new primary key recreates the table empty, and only with --allow-drop', async () => {
    await applySchema(t.database, parseSchemaText(KEYED_BY_CODE));
    const coupons = t.database.dialect.dataTableRef('coupons');
    await sql`INSERT INTO ${coupons} (code, value) VALUES ('SPRING', 5)`.execute(t.database.db);
    const rekeyed = parseSchemaText(
      KEYED_BY_CODE.replace('primaryKey: code', 'primaryKey: value').replace(
        'value: decimal',
        'value: integer',
      ),
    );
    await expect(applySchema(t.database, rekeyed)).rejects.toThrow(
      /change the primary key of coupons from \(code\) to \(value\)/,
    );
    const kept = await sql<{ n: number }>`SELECT count(*) AS n FROM ${coupons}`.execute(t.database.db);
    expect(Number(kept.rows[0]!.n)).toBe(1);
    const applied = await applySchema(t.database, rekeyed, { allowDrop: true });
    expect(applied.steps.map((s) => [s.kind, s.destructive])).toEqual([['change-key', true]]);
    const after = await sql<{ n: number }>`SELECT count(*) AS n FROM ${coupons}`.execute(t.database.db);
    expect(Number(after.rows[0]!.n)).toBe(0);
    await sql`INSERT INTO ${coupons} (code, value) VALUES ('A', 1)`.execute(t.database.db);
    await expect(
      sql`INSERT INTO ${coupons} (code, value) VALUES ('B', 1)`.execute(t.database.db),
    ).rejects.toThrow();
  });
});

describeEachDatabase('schema migration', (t) => {
  it('creates every table with its key and indexes the link columns', async () => {
    const result = await applySchema(t.database, parseSchemaText(retail));
    expect(result.version).toBe(1);
    expect(result.steps.filter((s) => s.kind === 'create-table').map((s) => s.table)).toEqual([
      'profiles',
      'purchases',
      'products',
      'stores',
    ]);
    expect(result.summary).toMatch(/no data loss$/);
    const physical = await introspectDataTables(t.database);
    expect([...physical.keys()].sort()).toEqual(['products', 'profiles', 'purchases', 'stores']);
    expect([...physical.get('purchases')!.columns]).toEqual([
      'id',
      'profile_id',
      'product_id',
      'store_id',
      'quantity',
      'amount',
      'purchased_at',
    ]);
    const indexes = [...physical.get('purchases')!.indexes].filter((i) => i.includes('ix_'));
    expect(indexes.sort()).toEqual(
      ['purchases_product_id', 'purchases_profile_id', 'purchases_store_id']
        .map((s) => t.database.dialect.dataIndex(s.split('_')[0]!, [s.slice(s.indexOf('_') + 1)]))
        .sort(),
    );
    const stored = await loadSchema(t.database);
    expect(stored?.schema.tables.map((x) => x.name)).toEqual(['profiles', 'purchases', 'products', 'stores']);
  });

  it('applying the same schema again changes nothing', async () => {
    const result = await applySchema(t.database, parseSchemaText(retail));
    expect(result).toMatchObject({ version: 1, changed: false, steps: [] });
  });

  it('adds a table and a column, keeping existing rows', async () => {
    const profiles = t.database.dialect.dataTableRef('stores');
    await sql`INSERT INTO ${profiles} (id, name) VALUES (1, 'Milano')`.execute(t.database.db);
    const next = retail
      .replace('      opened_on: date\n', '      opened_on: date\n      manager: string\n')
      .concat('  coupons:\n    primaryKey: code\n    columns: { code: string, value: decimal }\n');
    const result = await applySchema(t.database, parseSchemaText(next));
    expect(result.steps.map((s) => s.description)).toEqual([
      'add column stores.manager (string)',
      'create table coupons (2 columns)',
    ]);
    expect(result.version).toBe(2);
    const rows = await sql<{
      name: string;
      manager: string | null;
    }>`SELECT name, manager FROM ${profiles}`.execute(t.database.db);
    expect(rows.rows).toEqual([{ name: 'Milano', manager: null }]);
  });

  it('refuses a destructive change unless drops are allowed, and changes nothing', async () => {
    const dropped = retail.replace('      opened_on: date\n', '');
    const before = await introspectDataTables(t.database);
    const refusal = applySchema(t.database, parseSchemaText(dropped));
    await expect(refusal).rejects.toThrow(/would delete data:[\s\S]*--allow-drop/);
    const message = await refusal.catch((e: Error) => e.message);
    for (const step of ['drop column stores.opened_on', 'drop column stores.manager', 'drop table coupons']) {
      expect(message).toContain(step);
    }
    expect(await introspectDataTables(t.database)).toEqual(before);
    expect((await loadSchema(t.database))?.version).toBe(2);

    const dryRun = await applySchema(t.database, parseSchemaText(dropped), { dryRun: true });
    expect(dryRun.summary).toMatch(/DATA LOSS$/);
    expect(await introspectDataTables(t.database)).toEqual(before);

    const applied = await applySchema(t.database, parseSchemaText(dropped), { allowDrop: true });
    expect(applied.version).toBe(3);
    const after = await introspectDataTables(t.database);
    expect(after.has('coupons')).toBe(false);
    expect([...after.get('stores')!.columns]).toEqual(['id', 'name', 'region', 'country']);
  });

  it('changing a column type is destructive', async () => {
    const retyped = retail
      .replace('      opened_on: date\n', '')
      .replace('      region: string\n', '      region: integer\n');
    const plan = await applySchema(t.database, parseSchemaText(retyped), { dryRun: true });
    expect(plan.steps.map((s) => s.description)).toEqual([
      'change stores.region from string to integer: its values are dropped',
    ]);
  });
});
