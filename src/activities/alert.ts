import { z } from 'zod';
import { handOn } from './checks.ts';
import { defineActivity, MAIN } from './types.ts';

/** Records a message for the people who follow the campaign, and continues. */
export const alert = defineActivity({
  type: 'alert',
  label: 'Alert',
  category: 'flow',
  description: 'records an alert for the campaign owners and continues',
  inputs: 'one',
  config: z.strictObject({
    title: z.string().trim().min(1).max(200),
    message: z.string().max(5000).optional(),
    level: z.enum(['info', 'warning', 'error']).default('info'),
  }),
  outputs: () => [MAIN],
  check: (_config, ctx) => handOn(ctx),
  async execute(config, ctx) {
    await ctx.alert(config);
    await ctx.forward('', ctx.inputs[0]!);
  },
});
