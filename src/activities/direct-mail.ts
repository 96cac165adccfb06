import { z } from 'zod';
import { channelActivity } from './channel.ts';
import { columnIssues } from './checks.ts';

export const directMail = channelActivity({
  type: 'direct-mail',
  channel: 'direct-mail',
  label: 'Direct mail',
  description: 'writes an extraction file for a mail house',
  config: z.strictObject({
    sendWithoutConfirmation: z.boolean().default(false),
    /** The fields written to the file, in order (links allowed). */
    columns: z.array(z.string().min(1)).min(1),
    /** The folder under the data folder the file is written to. */
    folder: z.string().min(1).default('direct-mail'),
  }),
  // Fields of the recipients' table, or columns the rows carry (what enrichment added).
  check: (config, population, ctx) =>
    (config.columns as string[]).flatMap((column, i) =>
      columnIssues(ctx, population, column, `columns[${i}]`),
    ),
});
