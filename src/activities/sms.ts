import { z } from 'zod';
import { channelActivity } from './channel.ts';

export const smsConfig = z.strictObject({
  category: z.enum(['marketing', 'transactional']).default('marketing'),
  sendWithoutConfirmation: z.boolean().default(false),
  provider: z.string().min(1).optional(),
  text: z.string().min(1),
  tracking: z.boolean().default(true),
  rate: z.number().int().min(1).max(2000).optional(),
});
export type SmsConfig = z.infer<typeof smsConfig>;

export const sms = channelActivity({
  type: 'sms',
  channel: 'sms',
  label: 'SMS',
  description: 'sends a personalised text message to each recipient',
  config: smsConfig,
});
