/**
 * What an RFC 3463 enhanced status code (`class.subject.detail`) says about the recipient's address, shared
 * by the SMTP provider (a refusal during the session) and the DSN reader (a refusal reported later):
 * - 1.x is a bad destination address — except 1.7 and 1.8, which are about the sender's address;
 * - 2.x a mailbox that cannot take mail now (full, disabled) — except 2.3, a message too long for it;
 * - the rest (3 system, 4 routing, 5 protocol, 6 content, 7 policy) concerns this message, not the address.
 */
export function addressVerdict(subject: number, detail: number): 'hard' | 'soft' | null {
  if (subject === 1) return detail === 7 || detail === 8 ? null : 'hard';
  if (subject === 2) return detail === 3 ? null : 'soft';
  return null;
}

/** The enhanced status code at the start of a text (`5.1.1`, `4.2.2 …`), or undefined. */
export function enhancedStatus(text: string): { klass: number; subject: number; detail: number } | undefined {
  const match = /^\s*([245])\.(\d{1,3})\.(\d{1,3})\b/.exec(text);
  return match ? { klass: Number(match[1]), subject: Number(match[2]), detail: Number(match[3]) } : undefined;
}
