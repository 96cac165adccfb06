import { z } from 'zod';
import { handOn } from './checks.ts';
import { defineActivity, MAIN } from './types.ts';

/** Holds the population for a while, or until a date; durable across restarts. */
export const wait = defineActivity({
  type: 'wait',
  label: 'Wait',
  category: 'flow',
  description: 'holds the population for a duration or until a date',
  inputs: 'one',
  config: z
    .strictObject({
      duration: z
        .strictObject({
          days: z.number().int().min(0).default(0),
          hours: z.number().int().min(0).default(0),
          minutes: z.number().int().min(0).default(0),
        })
        .refine((d) => d.days + d.hours + d.minutes > 0, { message: 'a duration of at least a minute' })
        .optional(),
      /** An ISO 8601 date-time with an offset (or Z). */
      until: z.iso.datetime({ offset: true }).optional(),
    })
    .refine((c) => (c.duration === undefined) !== (c.until === undefined), {
      message: 'wait for a duration or until a date, one of the two',
      path: ['duration'],
    }),
  outputs: () => [MAIN],
  check: (_config, ctx) => handOn(ctx),
  // A test run shows what comes after a wait without waiting; a live run holds the population on a
  // durable timer, counted from when the wait starts.
  async execute(config, ctx) {
    if (ctx.mode === 'test') await ctx.log('test run: the wait is not observed');
    else {
      const { duration, until } = config;
      await ctx.waitUntil((now) =>
        duration
          ? now + ((duration.days * 24 + duration.hours) * 60 + duration.minutes) * 60_000
          : Date.parse(until!),
      );
    }
    await ctx.forward('', ctx.inputs[0]!);
  },
});
