import { parseDocument } from 'yaml';
import { ValidationError, type Issue } from '../errors.ts';
import {
  CARDINALITIES,
  CHANNELS,
  COLUMN_TYPES,
  type Cardinality,
  type Channel,
  type ChannelDef,
  type ColumnDef,
  type ColumnType,
  type LinkDef,
  type TableDef,
  type WorkspaceSchema,
} from './types.ts';

/**
 * Reads a workspace schema document (the `baton.yaml` format of DESIGN.md) and checks it completely:
 * every problem is reported at once, each with the path where it is.
 */

const TABLE_NAME = /^[a-z][a-z0-9_]{0,47}$/;
const COLUMN_NAME = /^[a-z][a-z0-9_]{0,62}$/;
/** System column names of PostgreSQL and SQLite: a customer column with one of these names cannot exist. */
const RESERVED_COLUMNS = new Set([
  'oid',
  'rowid',
  '_rowid_',
  'ctid',
  'xmin',
  'xmax',
  'cmin',
  'cmax',
  'tableoid',
]);
/** Every targeting dimension gets these system links (the message ledger and tracking events). */
export const SYSTEM_LINKS = ['messages', 'events'] as const;
const RESERVED_LINKS = new Set<string>(SYSTEM_LINKS);
const KEY_TYPES: ReadonlySet<ColumnType> = new Set(['string', 'integer']);
const TABLE_KEYS = new Set(['label', 'description', 'primaryKey', 'columns', 'targeting', 'links']);
const COLUMN_KEYS = new Set(['type', 'label', 'description', 'values']);
const LINK_KEYS = new Set(['table', 'cardinality', 'on']);
const CHANNEL_KEYS = new Set(['address', 'optIn']);
const MAX_TABLES = 200;

type Dict = Record<string, unknown>;

function isDict(value: unknown): value is Dict {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

class Checker {
  readonly issues: Issue[] = [];

  add(path: string, message: string): void {
    this.issues.push({ path, message });
  }

  dict(value: unknown, path: string, what: string): Dict | undefined {
    if (isDict(value)) return value;
    this.add(path, `must be a mapping of ${what}`);
    return undefined;
  }

  unknownKeys(value: Dict, allowed: Set<string>, path: string): void {
    for (const key of Object.keys(value)) {
      if (!allowed.has(key))
        this.add(`${path}.${key}`, `unknown key; expected one of ${[...allowed].join(', ')}`);
    }
  }

  optionalText(value: Dict, key: string, path: string): string | undefined {
    const v = value[key];
    if (v === undefined) return undefined;
    if (typeof v === 'string') return v;
    this.add(`${path}.${key}`, 'must be text');
    return undefined;
  }
}

function parseColumn(c: Checker, name: string, raw: unknown, path: string): ColumnDef | undefined {
  if (!COLUMN_NAME.test(name)) {
    c.add(
      path,
      'invalid column name: use lowercase letters, digits and _, starting with a letter (at most 63)',
    );
    return undefined;
  }
  if (RESERVED_COLUMNS.has(name)) {
    c.add(path, `"${name}" is a reserved name (a system column of the database); choose another name`);
    return undefined;
  }
  let type: unknown = raw;
  const column: ColumnDef = { name, type: 'string' };
  if (isDict(raw)) {
    c.unknownKeys(raw, COLUMN_KEYS, path);
    type = raw.type;
    const label = c.optionalText(raw, 'label', path);
    const description = c.optionalText(raw, 'description', path);
    if (label !== undefined) column.label = label;
    if (description !== undefined) column.description = description;
    if (raw.values !== undefined) {
      if (
        !Array.isArray(raw.values) ||
        raw.values.length === 0 ||
        !raw.values.every((v) => typeof v === 'string')
      ) {
        c.add(`${path}.values`, 'must be a non-empty list of text values');
      } else if (new Set(raw.values).size !== raw.values.length) {
        c.add(`${path}.values`, 'lists a value twice');
      } else {
        column.values = raw.values;
      }
    }
  }
  if (typeof type !== 'string' || !(COLUMN_TYPES as readonly string[]).includes(type)) {
    c.add(
      isDict(raw) ? `${path}.type` : path,
      `unknown type ${JSON.stringify(type)}; expected one of ${COLUMN_TYPES.join(', ')}`,
    );
    return undefined;
  }
  column.type = type as ColumnType;
  if (column.values && column.type !== 'string')
    c.add(`${path}.values`, 'only string columns can list values');
  return column;
}

function parsePrimaryKey(c: Checker, raw: unknown, path: string): string[] {
  if (raw === undefined) {
    c.add(path, 'missing primary key: add `primaryKey: <column>`');
    return [];
  }
  const list = typeof raw === 'string' ? [raw] : raw;
  if (!Array.isArray(list) || list.length === 0 || !list.every((v) => typeof v === 'string')) {
    c.add(path, 'must be a column name or a non-empty list of column names');
    return [];
  }
  if (new Set(list).size !== list.length) c.add(path, 'names a column twice');
  return list;
}

function parseLink(c: Checker, name: string, raw: unknown, path: string): LinkDef | undefined {
  const value = c.dict(raw, path, 'link settings (table, cardinality, on)');
  if (!value) return undefined;
  c.unknownKeys(value, LINK_KEYS, path);
  let ok = true;
  if (typeof value.table !== 'string') {
    c.add(`${path}.table`, 'missing: the name of the linked table');
    ok = false;
  }
  if (
    typeof value.cardinality !== 'string' ||
    !(CARDINALITIES as readonly string[]).includes(value.cardinality)
  ) {
    c.add(
      `${path}.cardinality`,
      `unknown cardinality ${JSON.stringify(value.cardinality)}; expected one of ${CARDINALITIES.join(', ')}`,
    );
    ok = false;
  }
  const on = isDict(value.on) ? value.on : undefined;
  const pairs: LinkDef['on'] = [];
  if (!on || Object.keys(on).length === 0) {
    c.add(
      `${path}.on`,
      'missing: the join columns, as `{ <column of this table>: <column of the linked table> }`',
    );
    ok = false;
  } else {
    for (const [from, to] of Object.entries(on)) {
      if (typeof to !== 'string') {
        c.add(`${path}.on.${from}`, 'must name a column of the linked table');
        ok = false;
      } else pairs.push({ from, to });
    }
  }
  if (!ok) return undefined;
  return { name, table: value.table as string, cardinality: value.cardinality as Cardinality, on: pairs };
}

function parseTargeting(c: Checker, raw: unknown, path: string): ChannelDef[] {
  const value = c.dict(raw, path, 'channels to address columns');
  if (!value) return [];
  if (Object.keys(value).length === 0)
    c.add(path, `lists no channel; name at least one (${CHANNELS.join(', ')})`);
  const out: ChannelDef[] = [];
  for (const [channel, spec] of Object.entries(value)) {
    const at = `${path}.${channel}`;
    if (!(CHANNELS as readonly string[]).includes(channel)) {
      c.add(at, `unknown channel; expected one of ${CHANNELS.join(', ')}`);
      continue;
    }
    if (typeof spec === 'string') {
      out.push({ channel: channel as Channel, address: spec });
    } else if (isDict(spec) && typeof spec.address === 'string') {
      c.unknownKeys(spec, CHANNEL_KEYS, at);
      const def: ChannelDef = { channel: channel as Channel, address: spec.address };
      if (spec.optIn !== undefined) {
        if (typeof spec.optIn === 'string') def.optIn = spec.optIn;
        else c.add(`${at}.optIn`, 'must name a boolean column');
      }
      out.push(def);
    } else {
      c.add(at, 'must name the address column, or be `{ address: <column>, optIn: <boolean column> }`');
    }
  }
  return out;
}

function parseTable(c: Checker, name: string, raw: unknown, path: string): TableDef | undefined {
  if (!TABLE_NAME.test(name)) {
    c.add(
      path,
      'invalid table name: use lowercase letters, digits and _, starting with a letter (at most 48)',
    );
    return undefined;
  }
  const value = c.dict(raw, path, 'table settings (primaryKey, columns, links, targeting)');
  if (!value) return undefined;
  c.unknownKeys(value, TABLE_KEYS, path);
  const table: TableDef = { name, primaryKey: [], columns: [], links: [] };
  const label = c.optionalText(value, 'label', path);
  const description = c.optionalText(value, 'description', path);
  if (label !== undefined) table.label = label;
  if (description !== undefined) table.description = description;

  const columns =
    value.columns === undefined
      ? undefined
      : c.dict(value.columns, `${path}.columns`, 'column names to types');
  if (value.columns === undefined || (columns && Object.keys(columns).length === 0)) {
    c.add(`${path}.columns`, 'missing: a table needs at least one column');
  }
  for (const [colName, colRaw] of Object.entries(columns ?? {})) {
    const column = parseColumn(c, colName, colRaw, `${path}.columns.${colName}`);
    if (column) table.columns.push(column);
  }
  table.primaryKey = parsePrimaryKey(c, value.primaryKey, `${path}.primaryKey`);
  const links =
    value.links === undefined ? {} : c.dict(value.links, `${path}.links`, 'link names to link settings');
  for (const [linkName, linkRaw] of Object.entries(links ?? {})) {
    const at = `${path}.links.${linkName}`;
    if (!COLUMN_NAME.test(linkName)) {
      c.add(at, 'invalid link name: use lowercase letters, digits and _, starting with a letter');
      continue;
    }
    if (RESERVED_LINKS.has(linkName)) {
      c.add(
        at,
        `"${linkName}" is reserved for the system link to the ${linkName === 'messages' ? 'message ledger' : 'tracking events'}`,
      );
      continue;
    }
    const link = parseLink(c, linkName, linkRaw, at);
    if (link) table.links.push(link);
  }
  if (value.targeting !== undefined)
    table.targeting = parseTargeting(c, value.targeting, `${path}.targeting`);
  return table;
}

/** Checks that need every table: keys, link ends and types, targeting columns. */
function checkReferences(c: Checker, tables: TableDef[]): void {
  const byName = new Map(tables.map((t) => [t.name, t]));
  for (const table of tables) {
    const path = `tables.${table.name}`;
    const columns = new Map(table.columns.map((col) => [col.name, col]));
    table.primaryKey.forEach((key, i) => {
      const at = table.primaryKey.length === 1 ? `${path}.primaryKey` : `${path}.primaryKey[${i}]`;
      const column = columns.get(key);
      if (!column) c.add(at, `primary key column "${key}" is not a column of ${table.name}`);
      else if (!KEY_TYPES.has(column.type))
        c.add(at, `primary key column "${key}" is ${column.type}; a key must be string or integer`);
    });
    for (const link of table.links) {
      const at = `${path}.links.${link.name}`;
      if (columns.has(link.name))
        c.add(at, `duplicate name: ${table.name} has a column and a link both named "${link.name}"`);
      const target = byName.get(link.table);
      if (!target) {
        c.add(`${at}.table`, `links to unknown table "${link.table}"`);
        continue;
      }
      const targetColumns = new Map(target.columns.map((col) => [col.name, col]));
      for (const { from, to } of link.on) {
        const fromCol = columns.get(from);
        const toCol = targetColumns.get(to);
        if (!fromCol) c.add(`${at}.on.${from}`, `"${from}" is not a column of ${table.name}`);
        if (!toCol) c.add(`${at}.on.${from}`, `"${to}" is not a column of ${target.name}`);
        if (fromCol && toCol && fromCol.type !== toCol.type) {
          c.add(
            `${at}.on.${from}`,
            `type mismatch: ${table.name}.${from} is ${fromCol.type} but ${target.name}.${to} is ${toCol.type}`,
          );
        }
      }
      // Same length and every key column present: the join columns are exactly the key (none repeated).
      const sameAs = (cols: string[], key: string[]) =>
        cols.length === key.length && key.every((k) => cols.includes(k));
      const toCols = link.on.map((p) => p.to);
      const fromCols = link.on.map((p) => p.from);
      if (link.cardinality === 'many-to-one' && !sameAs(toCols, target.primaryKey)) {
        c.add(
          `${at}.on`,
          `a many-to-one link must end on the primary key of ${target.name} (${target.primaryKey.join(', ')})`,
        );
      }
      if (link.cardinality === 'one-to-many' && !sameAs(fromCols, table.primaryKey)) {
        c.add(
          `${at}.on`,
          `a one-to-many link must start from the primary key of ${table.name} (${table.primaryKey.join(', ')})`,
        );
      }
      if (
        link.cardinality === 'one-to-one' &&
        !sameAs(fromCols, table.primaryKey) &&
        !sameAs(toCols, target.primaryKey)
      ) {
        c.add(`${at}.on`, 'a one-to-one link must join on the primary key of one of its two tables');
      }
    }
    if (table.targeting) {
      if (table.primaryKey.length !== 1) {
        c.add(
          `${path}.targeting`,
          'a targeting dimension needs a single-column primary key (its recipient id)',
        );
      }
      for (const name of SYSTEM_LINKS) {
        if (columns.has(name)) {
          c.add(
            `${path}.columns.${name}`,
            `"${name}" is reserved on a targeting dimension for its system link; rename the column`,
          );
        }
      }
      for (const channel of table.targeting) {
        const at = `${path}.targeting.${channel.channel}`;
        const address = columns.get(channel.address);
        if (!address) c.add(at, `address column "${channel.address}" is not a column of ${table.name}`);
        else if (address.type !== 'string')
          c.add(at, `address column "${channel.address}" is ${address.type}; it must be string`);
        if (channel.optIn !== undefined) {
          const optIn = columns.get(channel.optIn);
          if (!optIn) c.add(`${at}.optIn`, `"${channel.optIn}" is not a column of ${table.name}`);
          else if (optIn.type !== 'boolean')
            c.add(`${at}.optIn`, `"${channel.optIn}" is ${optIn.type}; it must be boolean`);
        }
      }
    }
  }
}

/** Validates a parsed document (plain data, e.g. an API body) and returns the normalised schema. */
export function validateSchemaDocument(document: unknown, what = 'The workspace schema'): WorkspaceSchema {
  const c = new Checker();
  const root = c.dict(document, '', 'settings with a `tables` key');
  const tables: TableDef[] = [];
  if (root) {
    c.unknownKeys(root, new Set(['tables']), '');
    const rawTables =
      root.tables === undefined ? undefined : c.dict(root.tables, 'tables', 'table names to tables');
    const entries = Object.entries(rawTables ?? {});
    if (root.tables === undefined || (rawTables && entries.length === 0)) {
      c.add('tables', 'missing: a workspace needs at least one table');
    }
    if (entries.length > MAX_TABLES)
      c.add('tables', `has ${entries.length} tables; at most ${MAX_TABLES} are allowed`);
    for (const [name, raw] of entries) {
      const table = parseTable(c, name, raw, `tables.${name}`);
      if (table) tables.push(table);
    }
    checkReferences(c, tables);
  }
  for (const issue of c.issues) issue.path = issue.path.replace(/^\./, '');
  if (c.issues.length > 0) throw new ValidationError(what, c.issues);
  return { tables };
}

/**
 * Parses YAML (or JSON, which is YAML) text; a duplicate key or a syntax error names its line. `source`
 * names the text mid-sentence: a file path, or "the request body".
 */
export function parseSchemaText(text: string, source = 'baton.yaml'): WorkspaceSchema {
  const doc = parseDocument(text, { uniqueKeys: true, prettyErrors: true });
  if (doc.errors.length > 0) {
    throw new ValidationError(
      `The YAML in ${source}`,
      doc.errors.map((e) => ({
        path: e.linePos?.[0] ? `line ${e.linePos[0].line}, column ${e.linePos[0].col}` : '',
        // The first line of a pretty error ends with " at line L, column C:" (the excerpt follows); the path has it.
        message: `${e.code === 'DUPLICATE_KEY' ? 'duplicate name: ' : ''}${e.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`,
      })),
    );
  }
  return validateSchemaDocument(doc.toJS(), `The workspace schema in ${source}`);
}

/** The schema back in its compact document form (what `baton schema show` prints and the API returns). */
export function schemaToDocument(schema: WorkspaceSchema): Record<string, unknown> {
  const tables: Record<string, unknown> = {};
  for (const table of schema.tables) {
    const columns: Record<string, unknown> = {};
    for (const col of table.columns) {
      const extra = col.label !== undefined || col.description !== undefined || col.values !== undefined;
      columns[col.name] = extra
        ? {
            type: col.type,
            ...(col.label !== undefined && { label: col.label }),
            ...(col.description !== undefined && { description: col.description }),
            ...(col.values !== undefined && { values: col.values }),
          }
        : col.type;
    }
    const out: Record<string, unknown> = {};
    if (table.label !== undefined) out.label = table.label;
    if (table.description !== undefined) out.description = table.description;
    out.primaryKey = table.primaryKey.length === 1 ? table.primaryKey[0] : table.primaryKey;
    out.columns = columns;
    if (table.targeting) {
      out.targeting = Object.fromEntries(
        table.targeting.map((ch) => [
          ch.channel,
          ch.optIn ? { address: ch.address, optIn: ch.optIn } : ch.address,
        ]),
      );
    }
    if (table.links.length > 0) {
      out.links = Object.fromEntries(
        table.links.map((l) => [
          l.name,
          {
            table: l.table,
            cardinality: l.cardinality,
            on: Object.fromEntries(l.on.map((p) => [p.from, p.to])),
          },
        ]),
      );
    }
    tables[table.name] = out;
  }
  return { tables };
}
