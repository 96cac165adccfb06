import { CONDITIONAL_FUNCTIONS } from './conditional.ts';
import { DATE_FUNCTIONS } from './date.ts';
import { NUMERIC_FUNCTIONS } from './numeric.ts';
import { STRING_FUNCTIONS } from './string.ts';
import { AGGREGATE_DEFS } from './aggregate.ts';
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

/** Window functions: built into the checker (their arguments are clauses, not values). */
const WINDOW_FUNCTIONS = [
  {
    name: 'RowNum',
    summary:
      "the row's number (1, 2, 3…) in the order given, within its partition; ties broken by primary key",
    example: 'RowNum(PartitionBy(email), OrderBy(Desc(created_at)))',
  },
  {
    name: 'Rank',
    summary: "the row's rank in the order given, within its partition: equal values share a rank, then a gap",
    example: 'Rank(PartitionBy(country), OrderBy(Desc(total_spent)))',
  },
  {
    name: 'DenseRank',
    summary: 'as Rank, without gaps after equal values',
    example: 'DenseRank(OrderBy(loyalty))',
  },
  {
    name: '_Over_',
    summary: 'an aggregate (Sum, Count, Avg, Min, Max) of the values of every row of the partition',
    example: '_Over_(Count(), PartitionBy(email))',
  },
].map((w) => ({
  ...w,
  category: 'window',
  signatures: [
    w.name === '_Over_' ? '_Over_(aggregate, [PartitionBy(…)])' : `${w.name}([PartitionBy(…)], OrderBy(…))`,
  ],
}));

/** The catalogue as the expression editor lists it: every function and aggregate, by category. */
export function functionCatalogue(): Array<{
  name: string;
  category: string;
  summary: string;
  example: string;
  signatures: string[];
}> {
  const describe = (fn: FunctionDef) =>
    fn.signatures.map((s) => `${fn.name}(${s.params.join(', ')}${s.variadic ? ', …' : ''})`);
  return [
    ...FUNCTIONS.map((fn) => ({
      name: fn.name,
      category: fn.category,
      summary: fn.summary,
      example: fn.example,
      signatures: describe(fn),
    })),
    ...Object.values(AGGREGATE_DEFS).map((a) => ({
      name: a.functionName,
      category: 'aggregate',
      summary: a.summary,
      example: `${a.functionName}(purchases${a.needsValue ? '.amount' : ''})`,
      signatures: [`${a.functionName}(collection${a.needsValue ? '.column' : ''})`],
    })),
    ...WINDOW_FUNCTIONS,
  ];
}
