import { z } from 'zod';
import { perRowOfShape } from '../delivery/per-row.ts';

/**
 * The keys every sending channel activity (email, sms, push) has besides its content: what kind of
 * message it is, which provider sends it, tracking, and how fast and for how long it may send.
 */
export const sendingKeys = {
  /** Transactional messages skip the opt-in and the frequency cap. */
  category: z.enum(['marketing', 'transactional']).default('marketing'),
  sendWithoutConfirmation: z.boolean().default(false),
  /** A provider by name (`simulator`, `smtp`…); the channel's default when absent. */
  provider: z.string().min(1).optional(),
  tracking: z.boolean().default(true),
  /** Messages per second for this activity. */
  rate: z.number().int().min(1).max(2000).optional(),
  /** Hours the send may take: with a rate, who cannot be sent within them is excluded (window-overflow). */
  window: z.number().min(0.1).max(72).default(12),
  /** At most `messages` of this channel to one recipient in `days` days (marketing only). */
  frequencyCap: z
    .strictObject({ messages: z.number().int().min(1), days: z.number().int().min(1).max(365) })
    .optional(),
  /** One message per row of this one-to-many link (with its rows' filter and address) instead of one per recipient. */
  perRowOf: perRowOfShape.optional(),
};
