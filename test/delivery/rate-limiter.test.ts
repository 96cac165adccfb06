import { expect, it } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { RateLimiter } from '../../src/delivery/rate-limiter.ts';
import { describeEachDatabase } from '../helpers/databases.ts';

/**
 * Two senders on two connections of their own (as two processes would be) draw from one bucket: together
 * they take what the rate allows, within 5%: one second's burst, then the rate.
 */
describeEachDatabase('rate limiter', (t) => {
  it('holds two senders together to the rate', { timeout: 30_000 }, async () => {
    const second = await openDatabase(t.config, { migrate: false, readInWorker: false });
    try {
      const rate = 200;
      const limiters = [new RateLimiter(t.database), new RateLimiter(second)];
      const started = Date.now();
      const until = started + 2_500;
      const taken = await Promise.all(
        limiters.map(async (limiter) => {
          let n = 0;
          while (Date.now() < until) n += await limiter.take('test-bucket', rate, 5);
          return n;
        }),
      );
      const elapsed = (Date.now() - started) / 1000;
      const total = taken[0]! + taken[1]!;
      const expected = rate + rate * elapsed;
      expect(Math.abs(total - expected) / expected).toBeLessThan(0.05);
      // Both took a fair share: neither starved.
      expect(Math.min(...taken)).toBeGreaterThan(total / 5);
    } finally {
      await second.close();
    }
  });
});
