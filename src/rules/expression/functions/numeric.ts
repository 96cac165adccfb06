import type { FunctionDef, SqliteUdf } from './types.ts';

export const NUMERIC_FUNCTIONS: FunctionDef[] = [];

export const NUMERIC_SQLITE_UDFS: SqliteUdf[] = [];
