import { z } from 'zod';
import { label, handOn } from './checks.ts';
import { defineActivity } from './types.ts';

/** The same population down several branches that run in parallel. */
export const fork = defineActivity({
  type: 'fork',
  label: 'Fork',
  category: 'flow',
  description: 'sends the population down several parallel branches',
  inputs: 'one',
  config: z.strictObject({ branches: z.array(label).min(2).max(20) }),
  outputs: (config) => config.branches.map((b) => ({ name: b, label: b })),
  check(config, ctx) {
    const { population, issues } = handOn(ctx);
    config.branches.forEach((b, i) => {
      if (config.branches.indexOf(b) !== i)
        issues.push({ path: `${ctx.path}.branches[${i}]`, message: `branch "${b}" is named twice` });
    });
    return { population, issues };
  },
  async execute(config, ctx) {
    for (const branch of config.branches) await ctx.forward(branch, ctx.inputs[0]!);
  },
});
