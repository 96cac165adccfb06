import type { z } from 'zod';
import type { Channel } from '../schema/types.ts';
import { passThrough } from './checks.ts';
import { defineActivity, type ActivityDefinition } from './types.ts';

/**
 * What the four channel activities share: one input, a population of a targeting dimension that has the
 * channel, and an optional output carrying the recipients that were sent. Sending itself belongs to the
 * delivery engine; in a test run a channel activity stops and reports its population.
 */
export function channelActivity(options: {
  type: string;
  channel: Channel;
  label: string;
  description: string;
  config: z.ZodType<Record<string, unknown>>;
}): ActivityDefinition {
  return defineActivity({
    type: options.type,
    label: options.label,
    category: 'channel',
    description: options.description,
    inputs: 'one',
    config: options.config,
    outputs: () => [{ name: 'sent', label: 'sent' }],
    check(_config, ctx) {
      const { population, issues } = passThrough(ctx, options.type);
      if (population.kind === 'dimension') {
        const channels = population.table.targeting?.map((c) => c.channel) ?? [];
        if (!channels.includes(options.channel)) {
          issues.push({
            path: ctx.path,
            message: population.table.targeting
              ? `${population.table.name} has no ${options.channel} address (targeting: ${channels.join(', ') || 'none'})`
              : `${population.table.name} is not a targeting dimension; change the dimension to one with ${options.channel} addresses`,
          });
        }
      }
      return { population, issues };
    },
    // Sending belongs to the delivery engine (next): a test run stops here and reports the population.
    async execute(_config, ctx) {
      if (ctx.mode !== 'test') throw new Error(`${options.type} sending is not available yet`);
      await ctx.log(
        `test run: would send to ${ctx.inputs[0]?.count ?? 0} recipients (nothing is sent in a test run)`,
      );
    },
  });
}
