import type { FunctionDef, SqliteUdf } from './types.ts';

export const STRING_FUNCTIONS: FunctionDef[] = [];

export const STRING_SQLITE_UDFS: SqliteUdf[] = [];
