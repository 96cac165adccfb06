import type { CellValue, ColumnType } from '../schema/types.ts';

/**
 * How values travel in bulk writes, per database: the part of the dialect (dialect.ts) that the reading
 * half of an import needs. It has no dependency on the query builder, so a reading worker thread starts
 * without loading it.
 */
export type DatabaseKind = 'sqlite' | 'postgres';

export interface BulkValues {
  readonly kind: DatabaseKind;
  /**
   * A typed value as bulk writes carry it, as text: the stored text on SQLite (bound as text, the column's
   * affinity stores integers and decimals as numbers), a COPY text field on PostgreSQL (NULL is `\N`).
   * Imports encode on the reading side (a worker thread), so the writing thread only writes.
   */
  encodeForBulk(type: ColumnType, value: CellValue): string | null;
  /** An encoded bulk value back as CSV text that imports read as the same value. */
  bulkValueText(encoded: string | null): string;
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

export const sqliteBulkValues: BulkValues = {
  kind: 'sqlite',
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
  bulkValueText: (encoded) => encoded ?? '',
};

export const postgresBulkValues: BulkValues = {
  kind: 'postgres',
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

export function bulkValuesFor(kind: DatabaseKind): BulkValues {
  return kind === 'sqlite' ? sqliteBulkValues : postgresBulkValues;
}
