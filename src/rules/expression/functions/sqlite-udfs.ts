import type BetterSqlite3 from 'better-sqlite3';
import { CONDITIONAL_SQLITE_UDFS } from './conditional.ts';
import { DATE_SQLITE_UDFS } from './date.ts';
import { NUMERIC_SQLITE_UDFS } from './numeric.ts';
import { STRING_SQLITE_UDFS } from './string.ts';
import type { SqliteUdf } from './types.ts';

const UDFS: readonly SqliteUdf[] = [
  ...DATE_SQLITE_UDFS,
  ...STRING_SQLITE_UDFS,
  ...NUMERIC_SQLITE_UDFS,
  ...CONDITIONAL_SQLITE_UDFS,
];

/** Gives a SQLite connection the functions rules compile to that SQLite lacks (see SqliteUdf). */
export function registerSqliteUdfs(connection: BetterSqlite3.Database): void {
  for (const udf of UDFS) {
    connection.function(udf.name, { deterministic: true }, udf.fn as (...args: unknown[]) => unknown);
  }
}
