import { z } from 'zod';
import { audienceMembers } from '../audiences/store.ts';
import { findTable } from '../schema/types.ts';
import { defineActivity, MAIN } from './types.ts';

/** The rows of an audience saved earlier by a save-audience activity (of this or another campaign). */
export const readAudience = defineActivity({
  type: 'read-audience',
  label: 'Read audience',
  category: 'targeting',
  description: 'reads the rows of a saved audience',
  inputs: 'optional',
  config: z.strictObject({ audience: z.string().trim().min(1).max(200) }),
  outputs: () => [MAIN],
  check(config, ctx) {
    // An audience not saved yet may be saved by a run before this one: its rows are then known at run time.
    const dimension = ctx.audiences?.get(config.audience);
    if (dimension === undefined) return { population: { kind: 'unknown' }, issues: [] };
    const table = findTable(ctx.schema, dimension);
    if (table) return { population: { kind: 'dimension', table }, issues: [] };
    return {
      population: { kind: 'unknown' },
      issues: [
        {
          path: `${ctx.path}.audience`,
          message: `the audience "${config.audience}" holds rows of ${dimension}, which is no longer a table of the workspace`,
        },
      ],
    };
  },
  async execute(config, ctx) {
    const { audience, dimension, columns, select } = await audienceMembers(
      ctx.database,
      ctx.schema,
      config.audience,
    );
    const read = await ctx.output('', dimension, select, { columns });
    const gone = audience.count - read.count;
    await ctx.log(
      `${read.count} rows of audience "${audience.name}" (saved ${audience.savedAt} by ${audience.campaign})` +
        (gone > 0 ? `; ${gone} saved rows are no longer in ${dimension.name}` : ''),
    );
  },
});
