import { z } from 'zod';
import { defineActivity } from './types.ts';

/** Ends a branch; optionally triggers another campaign's signal with parameters. */
export const end = defineActivity({
  type: 'end',
  label: 'End',
  category: 'flow',
  description: 'ends the branch, optionally signalling another campaign',
  inputs: 'one',
  config: z.strictObject({
    signal: z
      .strictObject({
        campaign: z.string().min(1),
        parameters: z.record(z.string(), z.unknown()).default({}),
      })
      .optional(),
  }),
  outputs: () => [],
  check: (_config, ctx) => ({ population: ctx.inputs[0] ?? { kind: 'unknown' }, issues: [] }),
  // The signal is recorded for the other campaign's signal schedule to consume (not in test runs).
  async execute(config, ctx) {
    if (config.signal) await ctx.signal(config.signal.campaign, config.signal.parameters);
  },
});
