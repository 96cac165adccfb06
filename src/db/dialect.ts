import { sql, type RawBuilder } from 'kysely';
import type { CellValue, ColumnType } from '../schema/types.ts';

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
export type DatabaseKind = 'sqlite' | 'postgres';

export interface SqlDialect {
  readonly kind: DatabaseKind;
  /** The customer table's name as queries reference it: `data_profiles` or `data.profiles`. */
  dataTable(table: string): string;
  /** A customer table as a quoted SQL identifier. */
  dataTableRef(table: string): RawBuilder<unknown>;
  /** The name of an index on a customer table (PostgreSQL keeps it inside the `data` schema). */
  dataIndex(table: string, columns: string[]): string;
  columnType(type: ColumnType): string;
  /** A typed value as the driver should bind it. */
  toDriver(type: ColumnType, value: CellValue): unknown;
  /** A value read from the driver as JSON shows it (datetimes as ISO 8601 with `Z`, booleans as booleans). */
  fromDriver(type: ColumnType, raw: unknown): string | number | boolean | null;
  /** A uniformly random number in [0, 1). */
  random(): RawBuilder<number>;
  /**
   * Opens a transaction that will write. SQLite takes the write lock at once (`BEGIN IMMEDIATE`): a
   * transaction that reads first and writes later could otherwise be refused outright when another
   * connection commits in between, instead of waiting its turn.
   */
  beginWrite(): RawBuilder<unknown>;
}

const MAX_IDENTIFIER = 63;

function indexName(prefix: string, table: string, columns: string[]): string {
  const name = `${prefix}ix_${table}_${columns.join('_')}`;
  if (name.length <= MAX_IDENTIFIER) return name;
  // Long names are cut and made unique with a short hash so two long indexes never collide.
  let hash = 0;
  for (const ch of name) hash = (Math.imul(hash, 31) + ch.charCodeAt(0)) | 0;
  return `${name.slice(0, MAX_IDENTIFIER - 9)}_${(hash >>> 0).toString(16).padStart(8, '0')}`;
}

/** Epoch milliseconds → `YYYY-MM-DD HH:MM:SS.SSS` (UTC), the SQLite storage form. */
export function formatSqliteDatetime(ms: number): string {
  // toISOString is the fastest exact formatter V8 has; for years 0001-9999 it is `YYYY-MM-DDTHH:MM:SS.SSSZ`.
  const iso = new Date(ms).toISOString();
  return `${iso.slice(0, 10)} ${iso.slice(11, 23)}`;
}

/** Epoch milliseconds → ISO 8601 in UTC, the form every API answer uses. */
export function formatIsoDatetime(ms: number): string {
  const iso = new Date(ms).toISOString();
  // toISOString gives years beyond 9999 six digits; Baton's range is 0001-9999 so the plain form holds.
  return iso;
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
  kind: 'sqlite',
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
  toDriver(type, value) {
    if (value === null) return null;
    switch (type) {
      case 'boolean':
        return value ? 1 : 0;
      case 'decimal':
        return Number(value);
      case 'datetime':
        return formatSqliteDatetime(value as number);
      default:
        return value;
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
  random: () => sql<number>`((random() / 18446744073709551616.0) + 0.5)`,
  beginWrite: () => sql`BEGIN IMMEDIATE`,
};

export const postgresDialect: SqlDialect = {
  kind: 'postgres',
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
  toDriver(type, value) {
    if (value === null) return null;
    switch (type) {
      case 'integer':
        return typeof value === 'bigint' ? value.toString() : value;
      case 'datetime':
        return formatIsoDatetime(value as number);
      default:
        return value;
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
  random: () => sql<number>`random()`,
  beginWrite: () => sql`BEGIN`,
};

export function dialectFor(kind: DatabaseKind): SqlDialect {
  return kind === 'sqlite' ? sqliteDialect : postgresDialect;
}
