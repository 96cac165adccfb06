import type { FunctionDef, SqliteUdf } from './types.ts';

export const DATE_FUNCTIONS: FunctionDef[] = [];

export const DATE_SQLITE_UDFS: SqliteUdf[] = [];
