import type { FunctionDef } from './types.ts';

export const DATE_FUNCTIONS: FunctionDef[] = [];
