import type { FunctionDef } from './types.ts';

export const CONDITIONAL_FUNCTIONS: FunctionDef[] = [];
