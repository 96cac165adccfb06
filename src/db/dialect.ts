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
  /**
   * A typed value as bulk writes carry it, as text: the stored text on SQLite (bound as text, the column's
   * affinity stores integers and decimals as numbers), a COPY text field on PostgreSQL (NULL is `\N`).
   * Imports encode on the reading side (a worker thread), so the writing thread only writes.
   */
  encodeForBulk(type: ColumnType, value: CellValue): string | null;
  /** An encoded bulk value back as CSV text that imports read as the same value. */
  bulkValueText(encoded: string | null): string;
  /** A value read from the driver as JSON shows it (datetimes as ISO 8601 with `Z`, booleans as booleans). */
  fromDriver(type: ColumnType, raw: unknown): string | number | boolean | null;
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

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));
const MS_PER_DAY = 86_400_000;

/**
 * Epoch milliseconds → `YYYY-MM-DD<sep>HH:MM:SS.SSS` in UTC, by arithmetic on days (the civil-from-days
 * method) rather than through a Date: imports format millions of these, and this is several times faster.
 */
function formatUtc(ms: number, separator: string, suffix: string): string {
  const days = Math.floor(ms / MS_PER_DAY);
  let rest = ms - days * MS_PER_DAY;
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  const year = yoe + era * 400 + (month <= 2 ? 1 : 0);
  const hours = Math.floor(rest / 3_600_000);
  rest -= hours * 3_600_000;
  const minutes = Math.floor(rest / 60_000);
  rest -= minutes * 60_000;
  const seconds = Math.floor(rest / 1000);
  const millis = rest - seconds * 1000;
  return (
    `${TWO_DIGITS[Math.floor(year / 100)]!}${TWO_DIGITS[year % 100]!}-${TWO_DIGITS[month]!}-${TWO_DIGITS[day]!}` +
    `${separator}${TWO_DIGITS[hours]!}:${TWO_DIGITS[minutes]!}:${TWO_DIGITS[seconds]!}.` +
    `${millis < 100 ? (millis < 10 ? '00' : '0') : ''}${millis}${suffix}`
  );
}

/** Epoch milliseconds → `YYYY-MM-DD HH:MM:SS.SSS` (UTC), the SQLite storage form. */
export function formatSqliteDatetime(ms: number): string {
  return formatUtc(ms, ' ', '');
}

/** Epoch milliseconds → ISO 8601 in UTC (`YYYY-MM-DDTHH:MM:SS.SSSZ`), the form every API answer uses. */
export function formatIsoDatetime(ms: number): string {
  return formatUtc(ms, 'T', 'Z');
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
  encodeForBulk(type, value) {
    if (value === null) return null;
    switch (type) {
      case 'boolean':
        return value ? '1' : '0';
      case 'datetime':
        return formatSqliteDatetime(value as number);
      default:
        return String(value);
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
  bulkValueText: (encoded) => encoded ?? '',
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
  encodeForBulk: copyText,
  bulkValueText: (encoded) =>
    encoded === '\\N' || encoded === null
      ? ''
      : encoded.replace(/\\(.)/g, (_, ch: string) => COPY_UNESCAPES[ch] ?? ch),
};

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };
const COPY_SPECIAL = /[\\\t\n\r]/;
const COPY_UNESCAPES: Record<string, string> = { '\\': '\\', t: '\t', n: '\n', r: '\r' };

/** A value as a field of PostgreSQL's COPY text format (NULL is `\N`; tab, newline, CR, backslash escaped). */
function copyText(type: ColumnType, value: CellValue): string {
  if (value === null) return '\\N';
  switch (type) {
    case 'string':
      return COPY_SPECIAL.test(value as string)
        ? (value as string).replace(/[\\\t\n\r]/g, (ch) => COPY_ESCAPES[ch]!)
        : (value as string);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'datetime':
      return formatIsoDatetime(value as number);
    default:
      return String(value);
  }
}

export function dialectFor(kind: DatabaseKind): SqlDialect {
  return kind === 'sqlite' ? sqliteDialect : postgresDialect;
}
