import { z } from 'zod';
import { passThrough } from './checks.ts';
import { defineActivity, MAIN } from './types.ts';

/** Stores the population as a named audience, replacing its previous rows (not in test runs). */
export const saveAudience = defineActivity({
  type: 'save-audience',
  label: 'Save audience',
  category: 'targeting',
  description: 'saves the population as a named audience',
  inputs: 'one',
  config: z.strictObject({ audience: z.string().trim().min(1).max(200) }),
  outputs: () => [MAIN],
  check: (_config, ctx) => passThrough(ctx, 'save-audience'),
  async execute(config, ctx) {
    if (ctx.mode === 'test') await ctx.log(`test run: audience "${config.audience}" is not saved`);
    else throw new Error('saving audiences is not available yet');
    await ctx.forward('', ctx.inputs[0]!);
  },
});
