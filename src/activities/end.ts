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
  // Signals to other campaigns come with schedules (signal triggers); an end without one has nothing to do.
  async execute(config, ctx) {
    if (config.signal)
      await ctx.log(`would signal campaign ${config.signal.campaign} (signals are not sent yet)`);
  },
});
