import { z } from 'zod';
import { checkExpression } from '../rules/expression/check.ts';
import { evaluateExpression } from '../rules/expression/evaluate.ts';
import { Scope } from '../rules/scope.ts';
import type { Value } from '../rules/values.ts';
import type { TableDef } from '../schema/types.ts';
import { expressionIssues, label, handOn } from './checks.ts';
import { defineActivity, type PortDef } from './types.ts';

/** Variables a test condition may read besides the run's own: the population's count. */
export const TEST_VARIABLES = { recCount: 'integer' } as const;

/**
 * What a condition is checked against: a test looks at the population as a whole (its count, the
 * variables), so there is no row whose fields or links it could name.
 */
const NO_ROW: TableDef = { name: 'the test', primaryKey: [], columns: [], links: [] };

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
    const { population, issues } = handOn(ctx);
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
      const at = `conditions[${i}].when`;
      const options = { variables: { ...ctx.variables, ...TEST_VARIABLES }, type: 'boolean' } as const;
      const rowless = expressionIssues(ctx, NO_ROW, c.when, at, options);
      if (rowless.length === 0) return;
      // What is wrong besides naming the rows' fields is said as for any expression over the table.
      const withRows = table ? expressionIssues(ctx, table, c.when, at, options) : rowless;
      issues.push(
        ...(withRows.length > 0
          ? withRows
          : [
              {
                path: `${ctx.path}.${at}`,
                message: `a test's condition is on the population count and variables (vars.recCount…), not on the fields of its rows (${table!.name})`,
              },
            ]),
      );
    });
    return { population, issues };
  },
  /** The population goes down the first branch whose condition holds, or the default one. */
  async execute(config, ctx) {
    const input = ctx.inputs[0]!;
    const scope = new Scope(ctx.schema, NO_ROW);
    const variables: Record<string, Value> = { ...ctx.variables, recCount: input.count };
    const types = { ...ctx.variableTypes, ...TEST_VARIABLES };
    const context = {
      now: ctx.now,
      variable: (name: string) => variables[name] ?? null,
      // A test looks at the population as a whole: there is no current row.
      field: () => null,
      collection: () => [],
      window: () => null,
    };
    for (const condition of config.conditions) {
      const typed = checkExpression(condition.when, { scope, variables: types });
      if (evaluateExpression(typed, context) === true) {
        await ctx.log(`branch ${condition.label}: ${condition.when} holds for ${input.count} rows`);
        await ctx.forward(condition.label, input);
        return;
      }
    }
    if (config.default) await ctx.forward('default', input);
    await ctx.log(
      config.default
        ? 'no condition holds: default branch'
        : 'no condition holds and there is no default branch',
    );
  },
});
