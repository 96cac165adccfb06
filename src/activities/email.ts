import { z } from 'zod';
import { channelActivity } from './channel.ts';
import { sendingKeys } from './sending-keys.ts';

export const emailConfig = z
  .strictObject({
    ...sendingKeys,
    from: z.string().min(3).optional(),
    replyTo: z.string().min(3).optional(),
    subject: z.string().min(1),
    html: z.string().min(1).optional(),
    mjml: z.string().min(1).optional(),
    template: z.string().min(1).optional(),
    text: z.string().optional(),
  })
  .refine((c) => [c.html, c.mjml, c.template].filter((x) => x !== undefined).length === 1, {
    message: 'give the content as html, mjml or template (one of them)',
    path: ['html'],
  });
export type EmailConfig = z.infer<typeof emailConfig>;

export const email = channelActivity({
  type: 'email',
  channel: 'email',
  label: 'Email',
  description: 'sends a personalised email to each recipient',
  config: emailConfig,
});
