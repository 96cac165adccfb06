import { sql, type RawBuilder } from 'kysely';
import type { ColumnType } from '../schema/types.ts';
import { postgresBulkValues, sqliteBulkValues, type BulkValues, type DatabaseKind } from './bulk-values.ts';

export type { DatabaseKind } from './bulk-values.ts';

/**
 * Everything that differs between SQLite and PostgreSQL lives here, so the rest of Baton writes one query
 * for both. Storage conventions (documented in docs/schema.md):
 *
 * | type     | SQLite                                   | PostgreSQL  |
 * |----------|------------------------------------------|-------------|
 * | string   | TEXT                                     | text        |
 * | integer  | INTEGER (64-bit)                         | bigint      |
 * | decimal  | REAL                                     | numeric     |
 * | boolean  | INTEGER 0/1                              | boolean     |
 * | date     | TEXT `YYYY-MM-DD`                        | date        |
 * | datetime | TEXT `YYYY-MM-DD HH:MM:SS.SSS` in UTC    | timestamptz |
 *
 * The SQLite datetime text has a fixed width so that text order is time order, and it is the shape that
 * SQLite's own `strftime('%Y-%m-%d %H:%M:%f', …)` produces, so rules can compare against computed times.
 */
export interface SqlDialect extends BulkValues {
  /** The customer table's name as queries reference it: `data_profiles` or `data.profiles`. */
  dataTable(table: string): string;
  /** A customer table as a quoted SQL identifier. */
  dataTableRef(table: string): RawBuilder<unknown>;
  /** The name of an index on a customer table (PostgreSQL keeps it inside the `data` schema). */
  dataIndex(table: string, columns: string[]): string;
  columnType(type: ColumnType): string;
  /** A value read from the driver as JSON shows it (datetimes as ISO 8601 with `Z`, booleans as booleans). */
  fromDriver(type: ColumnType, raw: unknown): string | number | boolean | null;
  /**
   * Opens a transaction that will write. SQLite takes the write lock at once (`BEGIN IMMEDIATE`): a
   * transaction that reads first and writes later could otherwise be refused outright when another
   * connection commits in between, instead of waiting its turn.
   */
  beginWrite(): RawBuilder<unknown>;
  /** A boolean as Baton's own tables store it (0/1 on SQLite). */
  storedBoolean(value: boolean): number | boolean;
  /**
   * Rows given as one statement's parameters, whatever their number: a FROM item named `r` whose columns
   * `c0`, `c1`, … have these types, read from `rowParameters(rows)`. PostgreSQL takes one array per column
   * and `unnest` makes the rows; SQLite takes one JSON array of rows that `json_each` reads. A statement
   * over it has one text for any batch, so it is prepared and planned once, instead of a VALUES list of
   * thousands of parameters compiled and planned for each size.
   */
  rowSource(types: readonly RowType[]): string;
  rowParameters(rows: readonly (readonly unknown[])[], width: number): unknown[];
  /**
   * The clause that locks the selected rows of `alias` until the transaction ends (PostgreSQL), or
   * undefined where one writer at a time is the rule and nothing needs locking (SQLite).
   */
  forUpdate(alias: string): string | undefined;
}

/** Column types of a `rowSource` (PostgreSQL's names; SQLite takes the JSON values as they are). */
export type RowType = 'text' | 'integer' | 'bigint' | 'boolean' | 'timestamptz';

const rowColumns = (count: number) => Array.from({ length: count }, (_, i) => `c${i}`);

const MAX_IDENTIFIER = 63;

function indexName(prefix: string, table: string, columns: string[]): string {
  const name = `${prefix}ix_${table}_${columns.join('_')}`;
  if (name.length <= MAX_IDENTIFIER) return name;
  // Long names are cut and made unique with a short hash so two long indexes never collide.
  let hash = 0;
  for (const ch of name) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) | 0;
  return `${name.slice(0, MAX_IDENTIFIER - 9)}_${(hash >>> 0).toString(16).padStart(8, '0')}`;
}

function integerFromDriver(raw: unknown): number | string | null {
  if (raw === null || raw === undefined) return null;
  if (typeof raw === 'bigint') {
    return raw >= BigInt(Number.MIN_SAFE_INTEGER) && raw <= BigInt(Number.MAX_SAFE_INTEGER)
      ? Number(raw)
      : raw.toString();
  }
  if (typeof raw === 'string') {
    const n = Number(raw);
    return Number.isSafeInteger(n) ? n : raw;
  }
  return raw as number;
}

export const sqliteDialect: SqlDialect = {
  ...sqliteBulkValues,
  dataTable: (table) => `data_${table}`,
  dataTableRef: (table) => sql.id(`data_${table}`),
  dataIndex: (table, columns) => indexName('data_', table, columns),
  columnType(type) {
    switch (type) {
      case 'string':
      case 'date':
      case 'datetime':
        return 'TEXT';
      case 'integer':
      case 'boolean':
        return 'INTEGER';
      case 'decimal':
        return 'REAL';
    }
  },
  fromDriver(type, raw) {
    if (raw === null || raw === undefined) return null;
    switch (type) {
      case 'boolean':
        return Number(raw) !== 0;
      case 'integer':
        return integerFromDriver(raw);
      case 'decimal':
        return Number(raw);
      case 'datetime':
        return `${(raw as string).replace(' ', 'T')}Z`;
      default:
        return raw as string;
    }
  },
  beginWrite: () => sql`BEGIN IMMEDIATE`,
  storedBoolean: (value) => (value ? 1 : 0),
  rowSource: (types) =>
    `(SELECT ${rowColumns(types.length)
      .map((column, i) => `value->>${i} AS ${column}`)
      .join(', ')} FROM json_each(?)) AS r`,
  rowParameters: (rows) => [JSON.stringify(rows)],
  forUpdate: () => undefined,
};

export const postgresDialect: SqlDialect = {
  ...postgresBulkValues,
  dataTable: (table) => `data.${table}`,
  dataTableRef: (table) => sql.id('data', table),
  dataIndex: (table, columns) => indexName('', table, columns),
  columnType(type) {
    switch (type) {
      case 'string':
        return 'text';
      case 'integer':
        return 'bigint';
      case 'decimal':
        return 'numeric';
      case 'boolean':
        return 'boolean';
      case 'date':
        return 'date';
      case 'datetime':
        return 'timestamptz';
    }
  },
  fromDriver(type, raw) {
    if (raw === null || raw === undefined) return null;
    switch (type) {
      case 'boolean':
        return Boolean(raw);
      case 'integer':
        return integerFromDriver(raw);
      case 'decimal':
        return Number(raw);
      case 'datetime':
        return raw instanceof Date ? raw.toISOString() : (raw as string);
      default:
        return raw as string;
    }
  },
  beginWrite: () => sql`BEGIN`,
  storedBoolean: (value) => value,
  rowSource: (types) =>
    `unnest(${types.map((type, i) => `$${i + 1}::${type}[]`).join(', ')}) AS r(${rowColumns(types.length).join(', ')})`,
  rowParameters: (rows, width) => Array.from({ length: width }, (_, c) => rows.map((row) => row[c])),
  forUpdate: (alias) => `FOR UPDATE OF ${alias}`,
};

export function dialectFor(kind: DatabaseKind): SqlDialect {
  return kind === 'sqlite' ? sqliteDialect : postgresDialect;
}
