import { sql, type RawBuilder } from 'kysely';
import { formatIsoDatetime, formatSqliteDatetime, type DatabaseKind } from '../db/bulk-values.ts';
import type { Value, ValueType } from './values.ts';

/**
 * Values crossing into and out of SQL. Going in, a value becomes a parameter in the database's
 * representation: on SQLite booleans are 0/1, datetimes `YYYY-MM-DD HH:MM:SS.SSS` text and whole numbers
 * bigints (better-sqlite3 binds every JS number as REAL); on PostgreSQL each parameter is cast to its
 * type, so the server never has to guess it. Coming out, a driver value becomes a rule value again.
 */
const PG_TYPES: Record<Exclude<ValueType, 'null'>, string> = {
  string: 'text',
  integer: 'bigint',
  decimal: 'double precision',
  boolean: 'boolean',
  date: 'date',
  datetime: 'timestamptz',
};

export function sqlParam(kind: DatabaseKind, value: Value, type: ValueType): RawBuilder<unknown> {
  if (value === null || type === 'null') return sql`NULL`;
  if (kind === 'sqlite') {
    switch (type) {
      case 'boolean':
        return sql`${value ? 1 : 0}`;
      case 'datetime':
        return sql`${formatSqliteDatetime(value as number)}`;
      case 'integer':
        return sql`${BigInt(value)}`;
      default:
        return sql`${value}`;
    }
  }
  const text = type === 'datetime' ? formatIsoDatetime(value as number) : value;
  return sql`CAST(${text} AS ${sql.raw(PG_TYPES[type])})`;
}

/** A value read back from either driver as a rule value of `type`. */
export function fromSql(type: ValueType, raw: unknown): Value {
  if (raw === null || raw === undefined) return null;
  const scalar = raw as string | number | bigint;
  const text = () => String(scalar);
  switch (type) {
    case 'boolean':
      return raw === true || raw === 't' || (typeof raw !== 'boolean' && Number(raw) !== 0);
    case 'integer':
    case 'decimal':
      // -0 equals 0 everywhere; it is shown as 0, as the in-memory evaluator gives it.
      return Number(raw) + 0;
    case 'datetime': {
      if (raw instanceof Date) return raw.getTime();
      const iso = text();
      return Date.parse(/[zZ]|[+-]\d\d(:?\d\d)?$/.test(iso) ? iso : `${iso.replace(' ', 'T')}Z`);
    }
    case 'date':
      return raw instanceof Date ? raw.toISOString().slice(0, 10) : text().slice(0, 10);
    default:
      return text();
  }
}
