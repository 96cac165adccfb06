import { z } from 'zod';
import { channelActivity } from './channel.ts';
import { sendingKeys } from './sending-keys.ts';

export const smsConfig = z.strictObject({
  ...sendingKeys,
  text: z.string().min(1),
});
export type SmsConfig = z.infer<typeof smsConfig>;

export const sms = channelActivity({
  type: 'sms',
  channel: 'sms',
  label: 'SMS',
  description: 'sends a personalised text message to each recipient',
  config: smsConfig,
});
