import type { FunctionDef } from './types.ts';

export const STRING_FUNCTIONS: FunctionDef[] = [];
