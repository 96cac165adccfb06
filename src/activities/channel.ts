import type { z } from 'zod';
import type { Issue } from '../errors.ts';
import { Scope } from '../rules/scope.ts';
import type { Channel } from '../schema/types.ts';
import { deliver } from '../delivery/deliveries.ts';
import { perRowSpec } from '../delivery/per-row.ts';
import type { TableDef } from '../schema/types.ts';
import { fieldIssues, passThrough, ruleIssues } from './checks.ts';
import { defineActivity, type ActivityContext, type ActivityDefinition, type Population } from './types.ts';

/**
 * What the four channel activities share: one input, a population of a targeting dimension that has the
 * channel, and an optional output carrying the recipients that were sent. Sending itself belongs to the
 * delivery engine (src/delivery/): a test run reports what would be sent and excluded, a live run queues
 * the messages and goes on once every one is final.
 */
export function channelActivity(options: {
  type: string;
  channel: Channel;
  label: string;
  description: string;
  config: z.ZodType<Record<string, unknown>>;
  /** The channel's own checks of its config against the population. */
  check?: (config: Record<string, unknown>, population: Population, ctx: ActivityContext) => Issue[];
}): ActivityDefinition {
  return defineActivity({
    type: options.type,
    label: options.label,
    category: 'channel',
    description: options.description,
    inputs: 'one',
    config: options.config,
    outputs: () => [{ name: 'sent', label: 'sent' }],
    check(config, ctx) {
      const { population, issues } = passThrough(ctx, options.type);
      issues.push(...(options.check?.(config, population, ctx) ?? []));
      if (population.kind === 'dimension') issues.push(...perRowIssues(config, population.table, ctx));
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
    execute: (config, ctx) => deliver(ctx, options.channel, config),
  });
}

/**
 * One message per row of a one-to-many link of the recipients' table (one per booked flight…): the link,
 * the rule its rows must match, and the address column of its rows when the message goes there.
 */
function perRowIssues(config: Record<string, unknown>, table: TableDef, ctx: ActivityContext): Issue[] {
  const spec = perRowSpec(config);
  if (!spec) return [];
  const path = `${ctx.path}.perRowOf${typeof config.perRowOf === 'string' ? '' : '.link'}`;
  const link = new Scope(ctx.schema, table).collection([spec.link]);
  if (typeof link === 'string') return [{ path, message: link }];
  if (link.link.system)
    return [{ path, message: `perRowOf takes a link the schema declares, not the system link ${spec.link}` }];
  return [
    ...ruleIssues(ctx, link.table, spec.where, 'perRowOf.where'),
    ...(spec.address === undefined
      ? []
      : fieldIssues(ctx, link.table, spec.address, 'perRowOf.address', { types: ['string'] })),
  ];
}
