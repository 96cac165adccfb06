import type { FunctionDef, SqliteUdf } from './types.ts';

export const CONDITIONAL_FUNCTIONS: FunctionDef[] = [];

export const CONDITIONAL_SQLITE_UDFS: SqliteUdf[] = [];
