import { randomUUID } from 'node:crypto';

/**
 * UUIDv7s (RFC 9562): the time in milliseconds, a 12-bit counter within the millisecond (§6.2, method 1),
 * then 62 random bits drawn once per millisecond. The ids of a batch sit side by side in the primary key's
 * index, so a commit writes its last pages instead of a random page per event; they stay unique across
 * servers without a shared sequence (two servers would need the same millisecond and the same 62 bits).
 * Tens of events share a millisecond on a busy server: they share its prefix and random part too, the
 * costly parts of an id.
 */
export class TimeOrderedIds {
  private ms = -1;
  private prefix = '';
  private random = '';
  private counter = 0;

  next(ms: number): string {
    if (ms !== this.ms || this.counter === 0xfff) {
      if (ms !== this.ms) {
        const time = ms.toString(16).padStart(12, '0');
        this.prefix = `${time.slice(0, 8)}-${time.slice(8)}-7`;
        this.ms = ms;
      }
      // A v4 UUID's last 62 random bits, its variant bits before them.
      this.random = randomUUID().slice(18);
      this.counter = 0;
    } else this.counter += 1;
    return `${this.prefix}${this.counter.toString(16).padStart(3, '0')}${this.random}`;
  }
}
