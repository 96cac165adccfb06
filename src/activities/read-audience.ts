import { z } from 'zod';
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
  // The audience's dimension is known only when it has been saved: checked when the activity runs.
  check: () => ({ population: { kind: 'unknown' }, issues: [] }),
});
