import { z } from 'zod';
import { passThrough } from './checks.ts';
import { defineActivity, MAIN } from './types.ts';

/** Waits until all its inputs are done, then passes on one of them (the primary set). */
export const andJoin = defineActivity({
  type: 'and-join',
  label: 'And-join',
  category: 'flow',
  description: 'waits for all its inputs, then continues with the primary one',
  inputs: 'many',
  config: z.strictObject({
    /** The input whose population continues (the first input by default). */
    primary: z.string().min(1).optional(),
  }),
  outputs: () => [MAIN],
  check: (_config, ctx) => passThrough(ctx, 'and-join'),
  // Tasks run once all their inputs are done, so by now every input has arrived.
  async execute(config, ctx) {
    const primary = config.primary ? Math.max(0, ctx.inputRefs.indexOf(config.primary)) : 0;
    await ctx.forward('', ctx.inputs[primary]!);
  },
});
