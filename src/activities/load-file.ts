import { z } from 'zod';
import { COLUMN_TYPES } from '../schema/types.ts';
import { defineActivity, MAIN } from './types.ts';

/** The rows of a CSV file, with declared column types, to reconcile with a dimension or enrich. */
export const loadFile = defineActivity({
  type: 'load-file',
  label: 'Load file',
  category: 'targeting',
  description: 'reads a CSV file into the campaign',
  inputs: 'optional',
  config: z.strictObject({
    /** A path under the data folder's files/, or a file uploaded with the campaign. */
    file: z.string().min(1),
    columns: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[a-z_][a-z0-9_]*$/),
          type: z.enum(COLUMN_TYPES),
          header: z.string().optional(),
        }),
      )
      .min(1),
    delimiter: z.enum([',', ';', 'tab']).optional(),
    /** Rows that do not fit their columns: skipped (and counted), or the activity fails. */
    rejects: z.enum(['skip', 'fail']).default('fail'),
  }),
  outputs: () => [MAIN],
  check(config, ctx) {
    const names = config.columns.map((c) => c.name);
    const issues = names
      .map((n, i) =>
        names.indexOf(n) !== i
          ? { path: `${ctx.path}.columns[${i}].name`, message: `column ${n} is declared twice` }
          : undefined,
      )
      .filter((i) => i !== undefined);
    return { population: { kind: 'file' }, issues };
  },
});
