import { z } from 'zod';
import { findTable } from '../schema/types.ts';
import { sharedDimension } from './checks.ts';
import { defineActivity, MAIN } from './types.ts';

/** The population moved to another table through a link (from customers to their store, say). */
export const changeDimension = defineActivity({
  type: 'change-dimension',
  label: 'Change dimension',
  category: 'targeting',
  description: 'moves the population to another table through a link',
  inputs: 'one',
  config: z.strictObject({
    /** A link of the input's table (a path through several links allowed: store.region_office). */
    via: z.string().min(1),
    /** Keep input rows the link finds nothing for (as empty target rows), as the reference does. */
    keepUnmatched: z.boolean().default(true),
  }),
  outputs: () => [MAIN],
  check(config, ctx) {
    const { table, issues } = sharedDimension(ctx, 'change-dimension');
    if (!table) return { population: { kind: 'unknown' }, issues };
    let current = table;
    for (const name of config.via.split('.')) {
      const link = current.links.find((l) => l.name === name);
      const next = link && findTable(ctx.schema, link.table);
      if (!next) {
        issues.push({ path: `${ctx.path}.via`, message: `${current.name} has no link "${name}"` });
        return { population: { kind: 'unknown' }, issues };
      }
      current = next;
    }
    return { population: { kind: 'dimension', table: current }, issues };
  },
});
