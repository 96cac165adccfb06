import { z } from 'zod';
import { channelActivity } from './channel.ts';
import { sendingKeys } from './sending-keys.ts';

export const smsConfig = z.strictObject({
  ...sendingKeys,
  text: z.string().min(1),
  /** The country of numbers written without their country code (ISO 3166, `FR`); none: they need one. */
  defaultCountry: z
    .string()
    .regex(/^[A-Z]{2}$/, 'a two-letter country code such as FR')
    .optional(),
});
export type SmsConfig = z.infer<typeof smsConfig>;

export const sms = channelActivity({
  type: 'sms',
  channel: 'sms',
  label: 'SMS',
  description: 'sends a personalised text message to each recipient',
  config: smsConfig,
});
