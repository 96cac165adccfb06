import { setTimeout as delay } from 'node:timers/promises';
import type { Database } from '../db/database.ts';

/**
 * Token buckets kept in the database (`rate_buckets`), so every sender of every process draws from the
 * same bucket and together they hold a rate exactly. A bucket refills at `rate` tokens a second up to a
 * burst of one second's worth; taking tokens is one short transaction (a row lock on PostgreSQL, the
 * write lock on SQLite).
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
      const { taken, waitMs } = await this.tryTake(bucket, rate, wanted);
      if (taken > 0) return taken;
      await delay(waitMs);
    }
  }

  private async tryTake(
    bucket: string,
    rate: number,
    wanted: number,
  ): Promise<{ taken: number; waitMs: number }> {
    return this.database.db.transaction().execute(async (trx) => {
      const now = this.now();
      let query = trx
        .selectFrom('rate_buckets')
        .select(['tokens', 'updated_ms'])
        .where('provider', '=', bucket);
      if (this.database.kind === 'postgres') query = query.forUpdate();
      const row = await query.executeTakeFirst();
      // A new bucket starts full: one second's worth.
      const burst = Math.max(1, rate);
      const available = row
        ? Math.min(burst, Number(row.tokens) + ((now - Number(row.updated_ms)) * rate) / 1000)
        : burst;
      const taken = Math.min(wanted, Math.floor(available));
      const left = available - taken;
      if (row) {
        await trx
          .updateTable('rate_buckets')
          .set({ tokens: left, updated_ms: now })
          .where('provider', '=', bucket)
          .execute();
      } else {
        await trx
          .insertInto('rate_buckets')
          .values({ provider: bucket, tokens: left, updated_ms: now })
          .onConflict((oc) => oc.column('provider').doUpdateSet({ tokens: left, updated_ms: now }))
          .execute();
      }
      return { taken, waitMs: taken > 0 ? 0 : Math.ceil(((1 - left) * 1000) / rate) };
    });
  }
}
