import { z } from 'zod';
import { sharedDimension } from './checks.ts';
import { COMPLEMENT, defineActivity, MAIN } from './types.ts';

/** Union, intersection or exclusion of populations of one dimension. */
export const combine = defineActivity({
  type: 'combine',
  label: 'Combine',
  category: 'targeting',
  description: 'unites, intersects or excludes populations of one dimension',
  inputs: 'many',
  config: z.strictObject({
    mode: z.enum(['union', 'intersection', 'exclusion']),
    /** For exclusion: the input the others are taken out of (the first input by default). */
    primary: z.string().min(1).optional(),
    /** Rows are the same when their keys are equal (default), or when the listed columns are. */
    reconcileOn: z
      .union([z.literal('keys'), z.strictObject({ columns: z.array(z.string().min(1)).min(1) })])
      .default('keys'),
    /** Also output what the result leaves out of the inputs (their union minus the result). */
    complement: z.boolean().default(false),
  }),
  outputs: (config) => (config.complement ? [MAIN, COMPLEMENT] : [MAIN]),
  check(config, ctx) {
    const { table, issues } = sharedDimension(ctx, 'combine');
    return { population: table ? { kind: 'dimension', table } : { kind: 'unknown' }, issues };
  },
});
