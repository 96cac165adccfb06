/**
 * How an SMS is encoded and how many parts it is sent in (and billed as). GSM-7 when every character is
 * in the GSM 03.38 default alphabet or its extension table, UCS-2 otherwise (one emoji or one `ç` is
 * enough, and it more than halves what a part holds).
 *
 * A single message holds 160 GSM-7 septets or 70 UCS-2 code units; a long one is split into parts that
 * each lose room to the concatenation header (153 septets, 67 code units). An extension character is
 * sent as escape + character (2 septets) and a character outside the basic plane as a surrogate pair
 * (2 code units); neither pair is ever split across two parts, so a part may hold one unit less.
 */
const GSM_BASIC =
  '@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !"#¤%&\'()*+,-./0123456789:;<=>?' +
  '¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà';
const GSM_EXTENSION = '\f^{}\\[~]|€';

const BASIC = new Set(GSM_BASIC);
const EXTENSION = new Set(GSM_EXTENSION);

export type SmsEncoding = 'GSM-7' | 'UCS-2';

export interface SmsSize {
  encoding: SmsEncoding;
  /** Septets (GSM-7) or UTF-16 code units (UCS-2). */
  units: number;
  segments: number;
}

const LIMITS: Record<SmsEncoding, { single: number; part: number }> = {
  'GSM-7': { single: 160, part: 153 },
  'UCS-2': { single: 70, part: 67 },
};

export function smsSize(text: string): SmsSize {
  const characters = [...text];
  const gsm = characters.every((c) => BASIC.has(c) || EXTENSION.has(c));
  const encoding: SmsEncoding = gsm ? 'GSM-7' : 'UCS-2';
  // Per character: extension characters take 2 septets, astral characters 2 UTF-16 code units.
  const costs = characters.map((c) => (gsm ? (EXTENSION.has(c) ? 2 : 1) : c.length));
  const units = costs.reduce((sum, cost) => sum + cost, 0);
  const { single, part } = LIMITS[encoding];
  if (units <= single) return { encoding, units, segments: 1 };
  let segments = 1;
  let filled = 0;
  for (const cost of costs) {
    if (filled + cost > part) {
      segments++;
      filled = 0;
    }
    filled += cost;
  }
  return { encoding, units, segments };
}
