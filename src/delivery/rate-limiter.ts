import { setTimeout as delay } from 'node:timers/promises';
import { sql, type RawBuilder } from 'kysely';
import type { Database } from '../db/database.ts';

/**
 * Token buckets kept in the database (`rate_buckets`), so every sender of every process draws from the
 * same bucket and together they hold a rate exactly. A bucket refills at `rate` tokens a second up to a
 * burst of one second's worth. Taking tokens is one UPDATE that refills and takes at once — atomic on
 * both databases without a transaction around it, so senders never deadlock on the bucket.
 */
export class RateLimiter {
  constructor(
    private readonly database: Database,
    private readonly now: () => number = Date.now,
  ) {}

  /**
   * Takes up to `wanted` tokens of `bucket` at `rate` a second, waiting until at least one is there;
   * returns how many it took.
   */
  async take(bucket: string, rate: number, wanted: number): Promise<number> {
    for (;;) {
      const { taken, left } = await this.tryTake(bucket, rate, wanted);
      if (taken > 0) return taken;
      await delay(Math.max(1, Math.ceil(((1 - left) * 1000) / rate)));
    }
  }

  private async tryTake(
    bucket: string,
    rate: number,
    wanted: number,
  ): Promise<{ taken: number; left: number }> {
    const now = this.now();
    const burst = Math.max(1, rate);
    // A new bucket starts full.
    await this.database.db
      .insertInto('rate_buckets')
      .values({ provider: bucket, tokens: burst, taken: 0, updated_ms: now })
      .onConflict((oc) => oc.column('provider').doNothing())
      .execute();
    const least = (a: RawBuilder<unknown>, b: RawBuilder<unknown>) =>
      this.database.kind === 'postgres' ? sql`LEAST(${a}, ${b})` : sql`MIN(${a}, ${b})`;
    // Senders read the time before their UPDATE runs: a later one may run first, and the bucket's time
    // must never go back (the refill would count the same milliseconds twice).
    const greatest = (a: RawBuilder<unknown>, b: RawBuilder<unknown>) =>
      this.database.kind === 'postgres' ? sql`GREATEST(${a}, ${b})` : sql`MAX(${a}, ${b})`;
    // Tokens now: what was left plus what flowed in since, never above the burst; never below zero for
    // a clock that stepped back.
    const elapsed = sql`(CASE WHEN ${now} > updated_ms THEN ${now} - updated_ms ELSE 0 END)`;
    const available = least(sql`${burst}`, sql`tokens + ${elapsed} * ${rate} / 1000.0`);
    const taking = least(sql`${wanted}`, sql`CAST(${available} AS INTEGER)`);
    // PostgreSQL's CAST rounds; a floor keeps it from taking a token that is not whole yet.
    const whole =
      this.database.kind === 'postgres' ? least(sql`${wanted}`, sql`FLOOR(${available})`) : taking;
    const row = await sql<{ taken: unknown; tokens: unknown }>`UPDATE rate_buckets
      SET tokens = ${available} - ${whole}, taken = ${whole}, updated_ms = ${greatest(sql`updated_ms`, sql`${now}`)}
      WHERE provider = ${bucket}
      RETURNING taken, tokens`.execute(this.database.db);
    const result = row.rows[0]!;
    return { taken: Number(result.taken), left: Number(result.tokens) };
  }
}
