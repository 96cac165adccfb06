import { z } from 'zod';
import { saveAudience as save } from '../audiences/store.ts';
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
    const input = ctx.inputs[0]!;
    if (ctx.mode === 'test') await ctx.log(`test run: audience "${config.audience}" is not saved`);
    else {
      const count = await save(
        ctx.database,
        config.audience,
        { campaign: ctx.campaign, activity: ctx.activity, run: ctx.run },
        input,
      );
      await ctx.log(`audience "${config.audience}" saved: ${count} rows of ${input.dimension.name}`);
    }
    await ctx.forward('', input);
  },
});
