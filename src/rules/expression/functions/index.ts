import { CONDITIONAL_FUNCTIONS } from './conditional.ts';
import { DATE_FUNCTIONS } from './date.ts';
import { NUMERIC_FUNCTIONS } from './numeric.ts';
import { STRING_FUNCTIONS } from './string.ts';
import type { FunctionDef } from './types.ts';

/** The function catalogue: every family, looked up by name without regard to case. */
export const FUNCTIONS: readonly FunctionDef[] = [
  ...DATE_FUNCTIONS,
  ...STRING_FUNCTIONS,
  ...NUMERIC_FUNCTIONS,
  ...CONDITIONAL_FUNCTIONS,
];

const BY_NAME = new Map(FUNCTIONS.map((f) => [f.name.toLowerCase(), f]));

export function findFunction(name: string): FunctionDef | undefined {
  return BY_NAME.get(name.toLowerCase());
}
