import { z } from 'zod';
import { expressionIssues, label, passThrough } from './checks.ts';
import { defineActivity, type PortDef } from './types.ts';

/** Variables a test condition may read besides the run's own: the population's count. */
export const TEST_VARIABLES = { recCount: 'integer' } as const;

/** Sends the population down the first branch whose condition holds (on its count and variables). */
export const test = defineActivity({
  type: 'test',
  label: 'Test',
  category: 'flow',
  description: 'chooses a branch by ordered conditions on the population count and variables',
  inputs: 'one',
  config: z.strictObject({
    conditions: z.array(z.strictObject({ label, when: z.string().min(1) })).min(1),
    /** A default branch, taken when no condition holds. */
    default: z.boolean().default(true),
  }),
  outputs: (config) => [
    ...config.conditions.map((c): PortDef => ({ name: c.label, label: c.label })),
    ...(config.default ? [{ name: 'default', label: 'default' }] : []),
  ],
  check(config, ctx) {
    const { population, issues } = passThrough(ctx, 'test');
    const table = population.kind === 'dimension' ? population.table : undefined;
    config.conditions.forEach((c, i) => {
      if (
        config.conditions.findIndex((d) => d.label === c.label) !== i ||
        (config.default && c.label === 'default')
      ) {
        issues.push({
          path: `${ctx.path}.conditions[${i}].label`,
          message: `branch "${c.label}" is named twice`,
        });
      }
      issues.push(
        ...expressionIssues(ctx, table, c.when, `conditions[${i}].when`, {
          variables: TEST_VARIABLES,
          type: 'boolean',
        }),
      );
    });
    return { population, issues };
  },
});
