import { z } from 'zod';
import { channelActivity } from './channel.ts';

export const pushConfig = z.strictObject({
  category: z.enum(['marketing', 'transactional']).default('marketing'),
  sendWithoutConfirmation: z.boolean().default(false),
  provider: z.string().min(1).optional(),
  title: z.string().min(1),
  body: z.string().min(1),
  data: z.record(z.string(), z.string()).default({}),
  deepLink: z.string().min(1).optional(),
  /** Adds the message's open URL to the data (`baton_open`) for the app to call when it is opened. */
  tracking: z.boolean().default(true),
  rate: z.number().int().min(1).max(2000).optional(),
});
export type PushConfig = z.infer<typeof pushConfig>;

export const push = channelActivity({
  type: 'push',
  channel: 'push',
  label: 'Push notification',
  description: 'sends a push notification to each recipient',
  config: pushConfig,
});
