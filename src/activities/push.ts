import { z } from 'zod';
import { channelActivity } from './channel.ts';
import { sendingKeys } from './sending-keys.ts';

export const pushConfig = z.strictObject({
  ...sendingKeys,
  title: z.string().min(1),
  body: z.string().min(1),
  data: z.record(z.string(), z.string()).default({}),
  deepLink: z.string().min(1).optional(),
});
export type PushConfig = z.infer<typeof pushConfig>;

export const push = channelActivity({
  type: 'push',
  channel: 'push',
  label: 'Push notification',
  description: 'sends a push notification to each recipient',
  config: pushConfig,
});
