import type { FunctionDef } from './types.ts';

export const NUMERIC_FUNCTIONS: FunctionDef[] = [];
