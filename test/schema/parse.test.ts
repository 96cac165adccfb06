import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { UserError, ValidationError, type Issue } from '../../src/errors.ts';
import { parseSchemaText, schemaToDocument, validateSchemaDocument } from '../../src/schema/parse.ts';

const retail = readFileSync(new URL('../../examples/retail/baton.yaml', import.meta.url), 'utf8');

/** A schema document as plain data, loose enough to be broken on purpose. */
interface RawTable {
  primaryKey?: unknown;
  columns?: Record<string, unknown>;
  links?: Record<string, unknown>;
  targeting?: Record<string, unknown>;
  [key: string]: unknown;
}
interface RawDoc {
  tables: Record<string, RawTable>;
  [key: string]: unknown;
}

/** A small valid workspace that every error test breaks in exactly one (or a few) places. */
function base(): RawDoc {
  return {
    tables: {
      profiles: {
        primaryKey: 'id',
        columns: {
          id: 'integer',
          email: 'string',
          phone: 'string',
          city: 'string',
          store_id: 'integer',
          opted_in_sms: 'boolean',
          score: 'decimal',
          birth_date: 'date',
          created_at: 'datetime',
        },
        targeting: { email: 'email', sms: { address: 'phone', optIn: 'opted_in_sms' } },
        links: {
          purchases: { table: 'purchases', cardinality: 'one-to-many', on: { id: 'profile_id' } },
          store: { table: 'stores', cardinality: 'many-to-one', on: { store_id: 'id' } },
        },
      },
      purchases: {
        primaryKey: 'id',
        columns: { id: 'integer', profile_id: 'integer', amount: 'decimal' },
        links: { profile: { table: 'profiles', cardinality: 'many-to-one', on: { profile_id: 'id' } } },
      },
      stores: { primaryKey: 'id', columns: { id: 'integer', name: 'string', region: 'string' } },
    },
  };
}

function table(doc: RawDoc, name: string): RawTable {
  const found = doc.tables[name];
  if (!found) throw new Error(`test setup: no table ${name}`);
  return found;
}

/** The base document after `change` has been applied to it. */
function edited(change: (doc: RawDoc) => void): RawDoc {
  const doc = base();
  change(doc);
  return doc;
}

function issuesOf(run: () => unknown): Issue[] {
  let caught: unknown;
  try {
    run();
  } catch (error) {
    caught = error;
  }
  expect(caught, 'expected a ValidationError').toBeInstanceOf(ValidationError);
  return (caught as ValidationError).issues;
}

/** Asserts the complete list of issues, in order: each with its exact path and a fragment of its message. */
function expectIssues(run: () => unknown, expected: Array<[path: string, fragment: string]>): void {
  const issues = issuesOf(run);
  expect(issues.map((i) => i.path)).toEqual(expected.map(([path]) => path));
  issues.forEach((issue, i) => expect(issue.message).toContain(expected[i]![1]));
}

function expectDocIssues(doc: unknown, expected: Array<[path: string, fragment: string]>): void {
  expectIssues(() => validateSchemaDocument(doc), expected);
}

describe('valid schemas', () => {
  it('the base test document is valid (so each error test below breaks one thing only)', () => {
    const schema = validateSchemaDocument(base());
    expect(schema.tables.map((t) => t.name)).toEqual(['profiles', 'purchases', 'stores']);
  });

  it('reads the retail example into the normalised model', () => {
    const schema = parseSchemaText(retail);
    expect(schema.tables.map((t) => t.name)).toEqual(['profiles', 'purchases', 'products', 'stores']);
    const profiles = schema.tables[0]!;
    expect(profiles.label).toBe('Customers');
    expect(profiles.primaryKey).toEqual(['id']);
    expect(profiles.columns).toHaveLength(16);
    expect(profiles.columns.find((c) => c.name === 'birth_date')).toEqual({
      name: 'birth_date',
      type: 'date',
    });
    expect(profiles.columns.find((c) => c.name === 'loyalty')).toEqual({
      name: 'loyalty',
      type: 'string',
      label: 'Loyalty tier',
      values: ['bronze', 'silver', 'gold', 'platinum'],
    });
    expect(profiles.targeting).toEqual([
      { channel: 'email', address: 'email', optIn: 'opted_in_email' },
      { channel: 'sms', address: 'phone', optIn: 'opted_in_sms' },
      { channel: 'push', address: 'push_token', optIn: 'opted_in_push' },
    ]);
    expect(profiles.links).toEqual([
      {
        name: 'purchases',
        table: 'purchases',
        cardinality: 'one-to-many',
        on: [{ from: 'id', to: 'profile_id' }],
      },
      { name: 'store', table: 'stores', cardinality: 'many-to-one', on: [{ from: 'store_id', to: 'id' }] },
    ]);
    expect(schema.tables[1]!.targeting).toBeUndefined();
    expect(schema.tables[3]!.links).toEqual([]);
  });

  it('round-trips the retail example through schemaToDocument, as data and as YAML text', () => {
    const schema = parseSchemaText(retail);
    const document = schemaToDocument(schema);
    expect(validateSchemaDocument(document)).toEqual(schema);
    expect(parseSchemaText(stringify(document))).toEqual(schema);
    expect(parseSchemaText(JSON.stringify(document), 'body')).toEqual(schema);
    // The compact form: plain columns stay short, described ones use the long form.
    const profiles = (document.tables as Record<string, Record<string, Record<string, unknown>>>).profiles!;
    expect(profiles.primaryKey).toBe('id');
    expect(profiles.columns!.email).toBe('string');
    expect(profiles.columns!.gender).toEqual({ type: 'string', values: ['female', 'male', 'other'] });
    expect(profiles.targeting!.sms).toEqual({ address: 'phone', optIn: 'opted_in_sms' });
    expect(profiles.links!.store).toEqual({
      table: 'stores',
      cardinality: 'many-to-one',
      on: { store_id: 'id' },
    });
  });

  it('round-trips composite keys, short-form channels, labels and descriptions', () => {
    const schema = validateSchemaDocument({
      tables: {
        visits: {
          label: 'Visits',
          description: 'One row per store and day',
          primaryKey: ['store_id', 'day'],
          columns: {
            store_id: 'integer',
            day: 'string',
            note: { type: 'string', description: 'free text' },
            kind: { type: 'string', label: 'Kind' },
          },
        },
        people: {
          primaryKey: 'code',
          columns: { code: 'string', address: 'string' },
          targeting: { 'direct-mail': 'address' },
        },
      },
    });
    expect(schema.tables[0]!.primaryKey).toEqual(['store_id', 'day']);
    expect(schema.tables[1]!.targeting).toEqual([{ channel: 'direct-mail', address: 'address' }]);
    const document = schemaToDocument(schema);
    const tables = document.tables as Record<string, Record<string, unknown>>;
    expect(tables.visits).toMatchObject({
      label: 'Visits',
      description: 'One row per store and day',
      primaryKey: ['store_id', 'day'],
    });
    expect((tables.visits!.columns as Record<string, unknown>).note).toEqual({
      type: 'string',
      description: 'free text',
    });
    expect(tables.people!.targeting).toEqual({ 'direct-mail': 'address' });
    expect(tables.people).not.toHaveProperty('links');
    expect(validateSchemaDocument(document)).toEqual(schema);
  });

  it('accepts the six column types in short and long form', () => {
    const types = ['string', 'integer', 'decimal', 'boolean', 'date', 'datetime'];
    const columns: Record<string, unknown> = { id: 'integer' };
    for (const type of types) {
      columns[`short_${type}`] = type;
      columns[`long_${type}`] = { type };
    }
    const schema = validateSchemaDocument({ tables: { t: { primaryKey: 'id', columns } } });
    const byName = new Map(schema.tables[0]!.columns.map((c) => [c.name, c.type]));
    for (const type of types) {
      expect(byName.get(`short_${type}`)).toBe(type);
      expect(byName.get(`long_${type}`)).toBe(type);
    }
  });

  it('accepts a string primary key and the longest allowed names', () => {
    const tableName = `t${'a'.repeat(47)}`;
    const columnName = `c${'b'.repeat(62)}`;
    const schema = validateSchemaDocument({
      tables: {
        [tableName]: { primaryKey: columnName, columns: { [columnName]: 'string', a_1: 'integer' } },
      },
    });
    expect(schema.tables[0]!.name).toHaveLength(48);
    expect(schema.tables[0]!.primaryKey).toEqual([columnName]);
  });

  it('accepts a many-to-one link that ends on a whole composite key, in any order', () => {
    const schema = validateSchemaDocument({
      tables: {
        visits: { primaryKey: ['store_id', 'day'], columns: { store_id: 'integer', day: 'string' } },
        notes: {
          primaryKey: 'id',
          columns: { id: 'integer', visit_store: 'integer', visit_day: 'string' },
          links: {
            visit: {
              table: 'visits',
              cardinality: 'many-to-one',
              on: { visit_day: 'day', visit_store: 'store_id' },
            },
          },
        },
      },
    });
    expect(schema.tables[1]!.links[0]!.on).toEqual([
      { from: 'visit_day', to: 'day' },
      { from: 'visit_store', to: 'store_id' },
    ]);
  });

  it('accepts a one-to-one link on the primary key of either side', () => {
    const ownKey = edited((d) => {
      table(d, 'stores').links = {
        profile: { table: 'profiles', cardinality: 'one-to-one', on: { id: 'store_id' } },
      };
    });
    expect(validateSchemaDocument(ownKey).tables[2]!.links[0]!.cardinality).toBe('one-to-one');
    const targetKey = edited((d) => {
      table(d, 'stores').links = {
        profile: { table: 'profiles', cardinality: 'one-to-one', on: { region: 'city' } },
      };
      table(d, 'profiles').primaryKey = 'city';
      delete table(d, 'profiles').links;
      delete table(d, 'purchases').links;
    });
    expect(validateSchemaDocument(targetKey).tables[2]!.links[0]!.on).toEqual([
      { from: 'region', to: 'city' },
    ]);
  });

  it('accepts exactly 200 tables', () => {
    const tables: Record<string, unknown> = {};
    for (let i = 0; i < 200; i++) tables[`t${i}`] = { primaryKey: 'id', columns: { id: 'integer' } };
    expect(validateSchemaDocument({ tables }).tables).toHaveLength(200);
  });
});

describe('the error value', () => {
  it('is a ValidationError (a UserError, status 400) whose issues are {path, message} and whose message lists them', () => {
    let caught: unknown;
    try {
      validateSchemaDocument(edited((d) => (table(d, 'stores').columns!.name = 'text')));
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ValidationError);
    expect(caught).toBeInstanceOf(UserError);
    const error = caught as ValidationError;
    expect(error.name).toBe('ValidationError');
    expect(error.status).toBe(400);
    expect(Array.isArray(error.issues)).toBe(true);
    expect(error.issues).toEqual([
      {
        path: 'tables.stores.columns.name',
        message: 'unknown type "text"; expected one of string, integer, decimal, boolean, date, datetime',
      },
    ]);
    expect(Object.keys(error.issues[0]!).sort()).toEqual(['message', 'path']);
    expect(error.message).toBe(
      'The workspace schema is invalid:\n' +
        '  - tables.stores.columns.name: unknown type "text"; expected one of string, integer, decimal, boolean, date, datetime',
    );
  });

  it('reports every problem at once, in document order', () => {
    const doc = edited((d) => {
      d.version = 2;
      table(d, 'profiles').columns!.Email = 'string';
      table(d, 'profiles').targeting!.whatsapp = 'phone';
      table(d, 'purchases').columns!.amount = 'money';
      table(d, 'purchases').links!.shop = { table: 'shops', cardinality: 'many-to-one', on: { id: 'id' } };
      table(d, 'stores').columns!.region = { type: 'string', values: [] };
    });
    expectDocIssues(doc, [
      ['version', 'unknown key; expected one of tables'],
      ['tables.profiles.columns.Email', 'invalid column name'],
      [
        'tables.profiles.targeting.whatsapp',
        'unknown channel; expected one of email, sms, push, direct-mail',
      ],
      ['tables.purchases.columns.amount', 'unknown type "money"'],
      ['tables.stores.columns.region.values', 'must be a non-empty list of text values'],
      ['tables.purchases.links.shop.table', 'links to unknown table "shops"'],
    ]);
  });
});

describe('YAML text', () => {
  it('reports a syntax error with its line', () => {
    const text = 'tables:\n  stores:\n    columns: { id: integer\n    primaryKey: id\n';
    const issues = issuesOf(() => parseSchemaText(text));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toMatch(/^line [345], column \d+$/);
    expect(issues[0]!.message).toMatch(/flow map/i);
  });

  it('names the source in the message', () => {
    expect(() => parseSchemaText('tables: [', 'workspace/baton.yaml')).toThrow(
      /^The YAML in workspace\/baton\.yaml is invalid:\n {2}- line 1, column/,
    );
  });

  it('reports a duplicate column with the line of the second occurrence', () => {
    const text = [
      'tables:',
      '  stores:',
      '    primaryKey: id',
      '    columns:',
      '      id: integer',
      '      id: string',
    ].join('\n');
    const issues = issuesOf(() => parseSchemaText(text));
    expect(issues).toEqual([
      { path: 'line 6, column 7', message: 'duplicate name: Map keys must be unique' },
    ]);
  });

  it('reports a duplicate table and a duplicate key inside a flow mapping, each with its line', () => {
    const text = [
      'tables:',
      '  stores:',
      '    primaryKey: id',
      '    columns: { id: integer, name: string, name: string }',
      '  stores:',
      '    primaryKey: id',
      '    columns: { id: integer }',
    ].join('\n');
    const issues = issuesOf(() => parseSchemaText(text));
    expect(issues.map((i) => i.path)).toEqual(['line 4, column 43', 'line 5, column 3']);
    for (const issue of issues) expect(issue.message).toMatch(/^duplicate name: /);
  });

  it('validates the content after parsing the text, with paths instead of lines', () => {
    const text = retail.replace('      quantity: integer\n', '      quantity: int\n');
    expectIssues(() => parseSchemaText(text), [['tables.purchases.columns.quantity', 'unknown type "int"']]);
  });

  it('accepts JSON text', () => {
    expect(parseSchemaText(JSON.stringify(base())).tables).toHaveLength(3);
  });
});

describe('document root', () => {
  it.each([
    ['a list', '- tables'],
    ['a scalar', 'tables'],
    ['empty text', ''],
  ])('refuses %s', (_what, text) => {
    expectIssues(() => parseSchemaText(text), [['', 'must be a mapping']]);
  });

  it.each([null, 42, 'tables', [{ tables: {} }]])('refuses the non-mapping value %j', (value) => {
    expectDocIssues(value, [['', 'must be a mapping of settings with a `tables` key']]);
  });

  it('requires tables, as a non-empty mapping', () => {
    expectDocIssues({}, [['tables', 'missing: a workspace needs at least one table']]);
    expectDocIssues({ tables: {} }, [['tables', 'a workspace needs at least one table']]);
    expectDocIssues({ tables: ['profiles'] }, [['tables', 'must be a mapping of table names to tables']]);
  });

  it('refuses unknown keys at the root', () => {
    expectDocIssues({ ...base(), tabels: {} }, [['tabels', 'unknown key; expected one of tables']]);
  });

  it('refuses more than 200 tables', () => {
    const tables: Record<string, unknown> = {};
    for (let i = 0; i < 201; i++) tables[`t${i}`] = { primaryKey: 'id', columns: { id: 'integer' } };
    expectDocIssues({ tables }, [['tables', 'has 201 tables; at most 200 are allowed']]);
  });
});

describe('tables', () => {
  it.each([
    ['uppercase', 'Stores'],
    ['a leading underscore', '_stores'],
    ['a leading digit', '1stores'],
    ['a dash', 'my-stores'],
    ['more than 48 characters', `t${'a'.repeat(48)}`],
  ])('refuses a table name with %s', (_what, name) => {
    const doc = { tables: { [name]: { primaryKey: 'id', columns: { id: 'integer' } } } };
    expectDocIssues(doc, [[`tables.${name}`, 'invalid table name']]);
  });

  it('refuses a table that is not a mapping', () => {
    const doc = edited((d) => {
      d.tables.stores = ['id'] as unknown as RawTable;
      delete table(d, 'profiles').links!.store;
    });
    expectDocIssues(doc, [['tables.stores', 'must be a mapping of table settings']]);
  });

  it('reports a link to a table that is itself invalid as a link to an unknown table', () => {
    // A follow-on error: the broken table is left out, so the link that names it cannot be checked.
    expectDocIssues(
      edited((d) => (d.tables.stores = ['id'] as unknown as RawTable)),
      [
        ['tables.stores', 'must be a mapping of table settings'],
        ['tables.profiles.links.store.table', 'links to unknown table "stores"'],
      ],
    );
  });

  it('refuses unknown keys in a table (and reports the key that is then missing)', () => {
    const doc = edited((d) => {
      const purchases = table(d, 'purchases');
      purchases.primary_key = purchases.primaryKey;
      delete purchases.primaryKey;
    });
    expectDocIssues(doc, [
      [
        'tables.purchases.primary_key',
        'unknown key; expected one of label, description, primaryKey, columns, targeting, links',
      ],
      ['tables.purchases.primaryKey', 'missing primary key: add `primaryKey: <column>`'],
    ]);
  });

  it('requires label and description to be text', () => {
    const doc = edited((d) => {
      table(d, 'stores').label = 12;
      table(d, 'stores').description = ['a'];
    });
    expectDocIssues(doc, [
      ['tables.stores.label', 'must be text'],
      ['tables.stores.description', 'must be text'],
    ]);
  });

  it('requires columns, as a mapping', () => {
    const missing = edited((d) => delete table(d, 'stores').columns);
    const issues = issuesOf(() => validateSchemaDocument(missing));
    expect(issues[0]).toEqual({
      path: 'tables.stores.columns',
      message: 'missing: a table needs at least one column',
    });
    const list = edited((d) => (table(d, 'stores').columns = ['id'] as unknown as Record<string, unknown>));
    const listIssues = issuesOf(() => validateSchemaDocument(list));
    expect(listIssues[0]).toEqual({
      path: 'tables.stores.columns',
      message: 'must be a mapping of column names to types',
    });
  });

  it('requires at least one column', () => {
    const doc = edited((d) => {
      table(d, 'stores').columns = {};
      delete table(d, 'profiles').links!.store;
    });
    const issues = issuesOf(() => validateSchemaDocument(doc));
    expect(issues[0]).toEqual({
      path: 'tables.stores.columns',
      message: 'missing: a table needs at least one column',
    });
  });
});

describe('columns', () => {
  it('refuses an unknown type in the short form', () => {
    expectDocIssues(
      edited((d) => (table(d, 'stores').columns!.region = 'varchar')),
      [
        [
          'tables.stores.columns.region',
          'unknown type "varchar"; expected one of string, integer, decimal, boolean, date, datetime',
        ],
      ],
    );
  });

  it('refuses an unknown or missing type in the long form, at the type key', () => {
    const doc = edited((d) => {
      table(d, 'stores').columns!.region = { type: 'text', label: 'Region' };
      table(d, 'stores').columns!.name = { label: 'Name' };
    });
    expectDocIssues(doc, [
      ['tables.stores.columns.name.type', 'unknown type undefined'],
      ['tables.stores.columns.region.type', 'unknown type "text"'],
    ]);
  });

  it('refuses a type that is not text', () => {
    expectDocIssues(
      edited((d) => (table(d, 'stores').columns!.region = 5)),
      [['tables.stores.columns.region', 'unknown type 5']],
    );
  });

  it.each([
    ['uppercase', 'Region'],
    ['a leading underscore', '_region'],
    ['a space', 'sales region'],
    ['more than 63 characters', `c${'b'.repeat(63)}`],
  ])('refuses a column name with %s', (_what, name) => {
    expectDocIssues(
      edited((d) => (table(d, 'stores').columns![name] = 'string')),
      [
        [
          `tables.stores.columns.${name}`,
          'invalid column name: use lowercase letters, digits and _, starting with a letter',
        ],
      ],
    );
  });

  it.each(['xmin', 'oid', 'rowid', 'ctid', 'tableoid'])('refuses the reserved column name %s', (name) => {
    expectDocIssues(
      edited((d) => (table(d, 'stores').columns![name] = 'integer')),
      [[`tables.stores.columns.${name}`, `"${name}" is a reserved name (a system column of the database)`]],
    );
  });

  it('refuses unknown keys in a long-form column', () => {
    expectDocIssues(
      edited((d) => (table(d, 'stores').columns!.region = { type: 'string', default: 'North' })),
      [
        [
          'tables.stores.columns.region.default',
          'unknown key; expected one of type, label, description, values',
        ],
      ],
    );
  });

  it('requires a column label and description to be text', () => {
    expectDocIssues(
      edited((d) => (table(d, 'stores').columns!.region = { type: 'string', label: true, description: 3 })),
      [
        ['tables.stores.columns.region.label', 'must be text'],
        ['tables.stores.columns.region.description', 'must be text'],
      ],
    );
  });

  describe('values (enumerations)', () => {
    it('keeps the listed values of a string column', () => {
      const schema = validateSchemaDocument(
        edited((d) => (table(d, 'stores').columns!.region = { type: 'string', values: ['North', 'South'] })),
      );
      expect(schema.tables[2]!.columns.find((c) => c.name === 'region')!.values).toEqual(['North', 'South']);
    });

    it('allows values only on string columns', () => {
      expectDocIssues(
        edited((d) => (table(d, 'stores').columns!.region = { type: 'integer', values: ['1', '2'] })),
        [['tables.stores.columns.region.values', 'only string columns can list values']],
      );
    });

    it.each([
      ['an empty list', []],
      ['a single text', 'North'],
      ['numbers', [1, 2]],
      ['a mix with null', ['North', null]],
    ])('refuses %s', (_what, values) => {
      expectDocIssues(
        edited((d) => (table(d, 'stores').columns!.region = { type: 'string', values })),
        [['tables.stores.columns.region.values', 'must be a non-empty list of text values']],
      );
    });

    it('refuses a value listed twice', () => {
      expectDocIssues(
        edited(
          (d) =>
            (table(d, 'stores').columns!.region = { type: 'string', values: ['North', 'South', 'North'] }),
        ),
        [['tables.stores.columns.region.values', 'lists a value twice']],
      );
    });
  });
});

describe('primary keys', () => {
  it('requires one', () => {
    expectDocIssues(
      edited((d) => delete table(d, 'purchases').primaryKey),
      [['tables.purchases.primaryKey', 'missing primary key']],
    );
  });

  it('must name a column of the table', () => {
    expectDocIssues(
      edited((d) => (table(d, 'purchases').primaryKey = 'code')),
      [['tables.purchases.primaryKey', 'primary key column "code" is not a column of purchases']],
    );
  });

  it.each([
    ['boolean', 'is boolean; a key must be string or integer'],
    ['decimal', 'is decimal; a key must be string or integer'],
    ['date', 'is date; a key must be string or integer'],
    ['datetime', 'is datetime; a key must be string or integer'],
  ])('refuses a %s key column', (type, fragment) => {
    const doc = edited((d) => {
      table(d, 'purchases').columns!.key = type;
      table(d, 'purchases').primaryKey = 'key';
    });
    expectDocIssues(doc, [['tables.purchases.primaryKey', `primary key column "key" ${fragment}`]]);
  });

  it.each([
    ['an empty list', []],
    ['a number', 7],
    ['a list with a number', ['id', 7]],
    ['a mapping', { column: 'id' }],
  ])('refuses %s as a key', (_what, key) => {
    expectDocIssues(
      edited((d) => (table(d, 'purchases').primaryKey = key)),
      [['tables.purchases.primaryKey', 'must be a column name or a non-empty list of column names']],
    );
  });

  it('checks each column of a composite key, with its index in the path', () => {
    const doc = edited((d) => {
      table(d, 'purchases').primaryKey = ['id', 'line', 'amount'];
    });
    expectDocIssues(doc, [
      ['tables.purchases.primaryKey[1]', 'primary key column "line" is not a column of purchases'],
      [
        'tables.purchases.primaryKey[2]',
        'primary key column "amount" is decimal; a key must be string or integer',
      ],
    ]);
  });

  it('refuses a composite key that names a column twice', () => {
    expectDocIssues(
      edited((d) => (table(d, 'purchases').primaryKey = ['id', 'id'])),
      [['tables.purchases.primaryKey', 'names a column twice']],
    );
  });
});

describe('links', () => {
  it('refuses a link to an unknown table', () => {
    expectDocIssues(
      edited((d) => ((table(d, 'profiles').links!.store as Record<string, unknown>).table = 'shops')),
      [['tables.profiles.links.store.table', 'links to unknown table "shops"']],
    );
  });

  it('refuses a join column missing on this side', () => {
    expectDocIssues(
      edited(
        (d) =>
          (table(d, 'profiles').links!.store = {
            table: 'stores',
            cardinality: 'many-to-one',
            on: { shop_id: 'id' },
          }),
      ),
      [['tables.profiles.links.store.on.shop_id', '"shop_id" is not a column of profiles']],
    );
  });

  it('refuses a join column missing on the linked side', () => {
    expectDocIssues(
      edited(
        (d) =>
          (table(d, 'profiles').links!.purchases = {
            table: 'purchases',
            cardinality: 'one-to-many',
            on: { id: 'customer_id' },
          }),
      ),
      [['tables.profiles.links.purchases.on.id', '"customer_id" is not a column of purchases']],
    );
  });

  it('refuses join columns of different types', () => {
    expectDocIssues(
      edited((d) => (table(d, 'profiles').columns!.store_id = 'string')),
      [
        [
          'tables.profiles.links.store.on.store_id',
          'type mismatch: profiles.store_id is string but stores.id is integer',
        ],
      ],
    );
  });

  it('requires a many-to-one link to end on the primary key of the linked table', () => {
    expectDocIssues(
      edited(
        (d) =>
          (table(d, 'profiles').links!.store = {
            table: 'stores',
            cardinality: 'many-to-one',
            on: { city: 'name' },
          }),
      ),
      [['tables.profiles.links.store.on', 'a many-to-one link must end on the primary key of stores (id)']],
    );
  });

  it('requires a many-to-one link to cover every column of a composite key', () => {
    const doc = edited((d) => {
      d.tables.visits = { primaryKey: ['store_id', 'day'], columns: { store_id: 'integer', day: 'string' } };
      table(d, 'profiles').links!.visit = {
        table: 'visits',
        cardinality: 'many-to-one',
        on: { store_id: 'store_id' },
      };
    });
    expectDocIssues(doc, [
      ['tables.profiles.links.visit.on', 'must end on the primary key of visits (store_id, day)'],
    ]);
  });

  it('does not take a composite key column joined twice for the whole key', () => {
    const doc = edited((d) => {
      d.tables.visits = { primaryKey: ['store_id', 'day'], columns: { store_id: 'integer', day: 'integer' } };
      table(d, 'profiles').links!.visit = {
        table: 'visits',
        cardinality: 'many-to-one',
        on: { store_id: 'store_id', id: 'store_id' },
      };
    });
    expectDocIssues(doc, [
      ['tables.profiles.links.visit.on', 'must end on the primary key of visits (store_id, day)'],
    ]);
  });

  it('requires a one-to-many link to start from the primary key of its own table', () => {
    expectDocIssues(
      edited(
        (d) =>
          (table(d, 'profiles').links!.purchases = {
            table: 'purchases',
            cardinality: 'one-to-many',
            on: { store_id: 'profile_id' },
          }),
      ),
      [
        [
          'tables.profiles.links.purchases.on',
          'a one-to-many link must start from the primary key of profiles (id)',
        ],
      ],
    );
  });

  it('requires a one-to-one link to join on the primary key of one of its two tables', () => {
    expectDocIssues(
      edited(
        (d) =>
          (table(d, 'stores').links = {
            profile: { table: 'profiles', cardinality: 'one-to-one', on: { name: 'city' } },
          }),
      ),
      [
        [
          'tables.stores.links.profile.on',
          'a one-to-one link must join on the primary key of one of its two tables',
        ],
      ],
    );
  });

  it('refuses an unknown cardinality', () => {
    expectDocIssues(
      edited(
        (d) => ((table(d, 'profiles').links!.store as Record<string, unknown>).cardinality = 'many-to-many'),
      ),
      [
        [
          'tables.profiles.links.store.cardinality',
          'unknown cardinality "many-to-many"; expected one of one-to-one, many-to-one, one-to-many',
        ],
      ],
    );
  });

  it('requires table, cardinality and on', () => {
    expectDocIssues(
      edited((d) => (table(d, 'profiles').links!.store = {})),
      [
        ['tables.profiles.links.store.table', 'missing: the name of the linked table'],
        ['tables.profiles.links.store.cardinality', 'unknown cardinality undefined'],
        ['tables.profiles.links.store.on', 'missing: the join columns'],
      ],
    );
  });

  it('refuses an empty join and a join value that is not a column name', () => {
    expectDocIssues(
      edited((d) => {
        table(d, 'profiles').links!.store = { table: 'stores', cardinality: 'many-to-one', on: {} };
        table(d, 'profiles').links!.purchases = {
          table: 'purchases',
          cardinality: 'one-to-many',
          on: { id: ['profile_id'] },
        };
      }),
      [
        ['tables.profiles.links.purchases.on.id', 'must name a column of the linked table'],
        ['tables.profiles.links.store.on', 'missing: the join columns'],
      ],
    );
  });

  it('refuses a link that is not a mapping, and links that are not a mapping', () => {
    expectDocIssues(
      edited((d) => (table(d, 'profiles').links!.store = 'stores')),
      [['tables.profiles.links.store', 'must be a mapping of link settings (table, cardinality, on)']],
    );
    expectDocIssues(
      edited((d) => (table(d, 'stores').links = ['profiles'] as unknown as Record<string, unknown>)),
      [['tables.stores.links', 'must be a mapping of link names to link settings']],
    );
  });

  it('refuses unknown keys in a link', () => {
    expectDocIssues(
      edited((d) => ((table(d, 'profiles').links!.store as Record<string, unknown>).via = 'store_id')),
      [['tables.profiles.links.store.via', 'unknown key; expected one of table, cardinality, on']],
    );
  });

  it('refuses a link with the name of a column of the same table', () => {
    expectDocIssues(
      edited((d) => {
        table(d, 'profiles').links!.city = {
          table: 'stores',
          cardinality: 'many-to-one',
          on: { store_id: 'id' },
        };
      }),
      [['tables.profiles.links.city', 'duplicate name: profiles has a column and a link both named "city"']],
    );
  });

  it.each([
    ['messages', 'reserved for the system link to the message ledger'],
    ['events', 'reserved for the system link to the tracking events'],
  ])('refuses the reserved link name %s', (name, fragment) => {
    expectDocIssues(
      edited(
        (d) =>
          (table(d, 'profiles').links![name] = {
            table: 'purchases',
            cardinality: 'one-to-many',
            on: { id: 'profile_id' },
          }),
      ),
      [[`tables.profiles.links.${name}`, fragment]],
    );
  });

  it.each([
    ['uppercase', 'Store'],
    ['a leading underscore', '_store'],
  ])('refuses a link name with %s', (_what, name) => {
    expectDocIssues(
      edited(
        (d) =>
          (table(d, 'profiles').links![name] = {
            table: 'stores',
            cardinality: 'many-to-one',
            on: { store_id: 'id' },
          }),
      ),
      [[`tables.profiles.links.${name}`, 'invalid link name']],
    );
  });
});

describe('targeting dimensions', () => {
  it('accepts every channel in both forms', () => {
    const schema = validateSchemaDocument(
      edited((d) => {
        table(d, 'profiles').columns!.push_token = 'string';
        table(d, 'profiles').columns!.postal = 'string';
        table(d, 'profiles').targeting = {
          email: { address: 'email' },
          sms: 'phone',
          push: { address: 'push_token', optIn: 'opted_in_sms' },
          'direct-mail': 'postal',
        };
      }),
    );
    expect(schema.tables[0]!.targeting).toEqual([
      { channel: 'email', address: 'email' },
      { channel: 'sms', address: 'phone' },
      { channel: 'push', address: 'push_token', optIn: 'opted_in_sms' },
      { channel: 'direct-mail', address: 'postal' },
    ]);
  });

  it('refuses an unknown channel', () => {
    expectDocIssues(
      edited((d) => (table(d, 'profiles').targeting!.whatsapp = 'phone')),
      [
        [
          'tables.profiles.targeting.whatsapp',
          'unknown channel; expected one of email, sms, push, direct-mail',
        ],
      ],
    );
  });

  it('reports an unknown channel once, without checking its settings', () => {
    expectDocIssues(
      edited((d) => (table(d, 'profiles').targeting!.whatsapp = { number: 'phone' })),
      [['tables.profiles.targeting.whatsapp', 'unknown channel']],
    );
  });

  it('refuses an address column that does not exist', () => {
    expectDocIssues(
      edited((d) => (table(d, 'profiles').targeting!.email = 'mail')),
      [['tables.profiles.targeting.email', 'address column "mail" is not a column of profiles']],
    );
  });

  it('refuses an address column that is not a string', () => {
    expectDocIssues(
      edited((d) => (table(d, 'profiles').columns!.phone = 'integer')),
      [['tables.profiles.targeting.sms', 'address column "phone" is integer; it must be string']],
    );
  });

  it('refuses an optIn column that is not boolean or does not exist', () => {
    expectDocIssues(
      edited((d) => (table(d, 'profiles').columns!.opted_in_sms = 'string')),
      [['tables.profiles.targeting.sms.optIn', '"opted_in_sms" is string; it must be boolean']],
    );
    expectDocIssues(
      edited((d) => (table(d, 'profiles').targeting!.sms = { address: 'phone', optIn: 'sms_ok' })),
      [['tables.profiles.targeting.sms.optIn', '"sms_ok" is not a column of profiles']],
    );
    expectDocIssues(
      edited((d) => (table(d, 'profiles').targeting!.sms = { address: 'phone', optIn: true })),
      [['tables.profiles.targeting.sms.optIn', 'must name a boolean column']],
    );
  });

  it('refuses a channel that names no address column', () => {
    expectDocIssues(
      edited((d) => {
        table(d, 'profiles').targeting!.email = 42;
        table(d, 'profiles').targeting!.sms = { optIn: 'opted_in_sms' };
      }),
      [
        [
          'tables.profiles.targeting.email',
          'must name the address column, or be `{ address: <column>, optIn: <boolean column> }`',
        ],
        ['tables.profiles.targeting.sms', 'must name the address column'],
      ],
    );
  });

  it('refuses unknown keys in a channel', () => {
    expectDocIssues(
      edited((d) => (table(d, 'profiles').targeting!.sms = { address: 'phone', consent: 'opted_in_sms' })),
      [['tables.profiles.targeting.sms.consent', 'unknown key; expected one of address, optIn']],
    );
  });

  it('refuses targeting that is not a mapping', () => {
    expectDocIssues(
      edited((d) => (table(d, 'profiles').targeting = ['email'] as unknown as Record<string, unknown>)),
      [['tables.profiles.targeting', 'must be a mapping of channels to address columns']],
    );
  });

  it('requires a single-column primary key', () => {
    const doc = edited((d) => {
      table(d, 'profiles').primaryKey = ['id', 'email'];
      delete table(d, 'profiles').links!.purchases;
      delete table(d, 'purchases').links;
    });
    expectDocIssues(doc, [
      ['tables.profiles.targeting', 'a targeting dimension needs a single-column primary key'],
    ]);
  });
});

describe('targeting dimension reserved names and channels', () => {
  const base = (extra: string) => `
tables:
  people:
    primaryKey: id
    columns: { id: integer, email: string${extra} }
    targeting: { email: email }
`;
  it('refuses a column named like a system link on a targeting dimension', () => {
    expect(() => parseSchemaText(base(', messages: string'))).toThrow(
      /tables.people.columns.messages: "messages" is reserved on a targeting dimension for its system link/,
    );
  });
  it('refuses an empty targeting block', () => {
    expect(() =>
      parseSchemaText(
        'tables:\n  people:\n    primaryKey: id\n    columns: { id: integer }\n    targeting: {}\n',
      ),
    ).toThrow(/tables.people.targeting: lists no channel/);
  });
});
