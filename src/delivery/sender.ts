import { sql } from 'kysely';
import type { SendResult } from '../channels/types.ts';
import type { Database } from '../db/database.ts';
import type { Channel } from '../schema/types.ts';
import { quarantineAddresses } from './address-lists.ts';
import { RateLimiter } from './rate-limiter.ts';

/**
 * The senders' side of the ledger: claim queued messages with a lease, compose them, send them through
 * their provider, and record what happened. Every step is a statement on the ledger, so any number of
 * senders in any number of processes share the work, and a sender that dies leaves messages whose lease
 * lapses: they are sent again where the provider deduplicates, and counted `uncertain` otherwise —
 * never sent twice silently, never dropped silently.
 */

/** A claimed message, as the composer needs it. */
export interface ClaimedMessage {
  id: string;
  run: string;
  activity: string;
  channel: Channel;
  recipient: string;
  /** The row of the link the message is about (perRowOf), by its key as text. */
  item: string | null;
  address: string;
  attempts: number;
}

/**
 * What the composer makes of a claimed message: something to send; a reason it is excluded (an address
 * found malformed when rendered); or a reason it failed for good (a template that cannot render for it).
 */
export type Composed =
  | {
      id: string;
      send: (idempotencyKey: string) => Promise<SendResult>;
      links: string[];
      /** The provider's name, kept on the ledger row: which provider's feedback to expect. */
      provider: string;
    }
  | { id: string; excluded: string }
  | { id: string; failed: string };

type Outcome = SendResult | { excluded: string } | { failed: string };
type Outcomes = Array<{ message: ClaimedMessage; result: Outcome; links: string[]; provider: string | null }>;

/** Renders a batch of claimed messages (one delivery's, or several) and binds each to its provider. */
export interface Composer {
  compose(messages: ClaimedMessage[]): Promise<Composed[]>;
  /** Whether the provider of a delivery deduplicates on the idempotency key (see Provider.idempotent). */
  idempotent(run: string, activity: string): Promise<boolean>;
  /**
   * The rates a delivery's messages are held to, all senders together: the activity's own, and its
   * provider's (each a token bucket; none: no limit).
   */
  rates(run: string, activity: string): Promise<Array<{ bucket: string; perSecond: number }>>;
}

export interface SenderOptions {
  /** Names this sender in the leases it takes. */
  owner: string;
  composer: Composer;
  batchSize?: number;
  /** Messages of a batch in flight at once. */
  concurrency?: number;
  leaseMs?: number;
  /** Attempts before a transient failure becomes final (`failed`). */
  maxAttempts?: number;
  /** The wait before attempt n + 1 after n transient failures. */
  backoffMs?: (attempts: number) => number;
  now?: () => number;
}

const DEFAULT_BACKOFF = (attempts: number) => Math.min(3_600_000, 30_000 * 2 ** (attempts - 1));

export class Sender {
  private readonly limiter: RateLimiter;
  private readonly now: () => number;

  constructor(
    private readonly database: Database,
    private readonly options: SenderOptions,
  ) {
    this.now = options.now ?? Date.now;
    this.limiter = new RateLimiter(database, this.now);
  }

  /** Sends until nothing is due now; returns how many messages it handled. */
  async drain(): Promise<number> {
    let total = 0;
    await this.recoverLapsed();
    for (;;) {
      const handled = await this.sendBatch();
      if (handled === 0) return total;
      total += handled;
    }
  }

  /**
   * Messages whose sender died mid-send (their lease lapsed): queued again when the provider
   * deduplicates on the message id, otherwise `uncertain` — the provider may or may not have them.
   */
  async recoverLapsed(): Promise<{ requeued: number; uncertain: number }> {
    const lapsed = await this.database.db
      .selectFrom('messages')
      .select(['run_id', 'activity'])
      .distinct()
      .where('status', '=', 'sending')
      .where('lease_until', '<', this.now())
      .execute();
    let requeued = 0;
    let uncertain = 0;
    for (const { run_id, activity } of lapsed) {
      const again = await this.options.composer.idempotent(run_id, activity);
      const result = await this.database.db
        .updateTable('messages')
        .set({
          status: again ? 'queued' : 'uncertain',
          reason: again
            ? null
            : 'the sender stopped during the send; the provider cannot say whether it went out',
          lease_owner: null,
          lease_until: null,
          updated_at: new Date(this.now()).toISOString(),
        })
        .where('run_id', '=', run_id)
        .where('activity', '=', activity)
        .where('status', '=', 'sending')
        .where('lease_until', '<', this.now())
        .executeTakeFirst();
      if (again) requeued += Number(result.numUpdatedRows);
      else uncertain += Number(result.numUpdatedRows);
    }
    return { requeued, uncertain };
  }

  /** Claims a batch of due messages and sends it; returns how many it claimed. */
  async sendBatch(): Promise<number> {
    const claimed = await this.claim();
    if (claimed.length === 0) return 0;
    const composed = await this.options.composer.compose(claimed);
    const byId = new Map(claimed.map((m) => [m.id, m]));
    const concurrency = this.options.concurrency ?? 20;
    const outcomes: Outcomes = [];
    const queue = [...composed];
    const rates = new Map<string, Awaited<ReturnType<Composer['rates']>>>();
    const worker = async () => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        const message = byId.get(next.id)!;
        if (!('send' in next)) {
          outcomes.push({ message, result: next, links: [], provider: null });
          continue;
        }
        const key = `${message.run}/${message.activity}`;
        if (!rates.has(key)) rates.set(key, await this.options.composer.rates(message.run, message.activity));
        for (const rate of rates.get(key)!) await this.limiter.take(rate.bucket, rate.perSecond, 1);
        let result: SendResult;
        try {
          result = await next.send(message.id);
        } catch (error) {
          // A provider that throws instead of answering: treated as a transient failure, never lost.
          result = { status: 'transient', reason: (error as Error).message };
        }
        outcomes.push({ message, result, links: next.links, provider: next.provider });
      }
    };
    await Promise.all(Array.from({ length: Math.min(concurrency, composed.length) }, worker));
    await this.record(outcomes);
    return claimed.length;
  }

  private async claim(): Promise<ClaimedMessage[]> {
    const now = this.now();
    const due = this.database.db
      .selectFrom('messages')
      .select('id')
      .where('status', '=', 'queued')
      .where('next_attempt_at', '<=', now)
      .orderBy('next_attempt_at')
      .orderBy('position')
      .limit(this.options.batchSize ?? 200);
    // Several senders on PostgreSQL each take other rows, without waiting on one another.
    const picked = this.database.kind === 'postgres' ? due.forUpdate().skipLocked() : due;
    const rows = await this.database.db
      .updateTable('messages')
      .set((eb) => ({
        status: 'sending',
        lease_owner: this.options.owner,
        lease_until: now + (this.options.leaseMs ?? 120_000),
        attempts: eb('attempts', '+', 1),
        updated_at: new Date(now).toISOString(),
      }))
      .where('id', 'in', picked)
      .where('status', '=', 'queued')
      .returning(['id', 'run_id', 'activity', 'channel', 'recipient', 'item', 'address', 'attempts'])
      .execute();
    return rows.map((r) => ({
      id: r.id,
      run: r.run_id,
      activity: r.activity,
      channel: r.channel as Channel,
      recipient: r.recipient,
      item: r.item,
      address: r.address ?? '',
      attempts: Number(r.attempts),
    }));
  }

  /** Writes every outcome of a batch in one transaction, only for the messages this sender still holds. */
  private async record(outcomes: Outcomes): Promise<void> {
    const now = this.now();
    const at = new Date(now).toISOString();
    const maxAttempts = this.options.maxAttempts ?? 5;
    const backoff = this.options.backoffMs ?? DEFAULT_BACKOFF;
    // On PostgreSQL the messages sent (nearly all of them) are recorded by one statement: a round trip
    // per message would cost more than sending it. SQLite, in process, takes them one by one.
    const together = this.database.kind === 'postgres';
    const sent = together
      ? outcomes.flatMap(({ message, result, links, provider }) =>
          'status' in result && result.status === 'accepted'
            ? [{ message, providerId: result.providerMessageId, links, provider }]
            : [],
        )
      : [];
    await this.database.db.transaction().execute(async (trx) => {
      if (sent.length > 0) {
        const rows = sql.join(
          sent.map(
            ({ message, providerId, links, provider }) =>
              sql`(${message.id}, ${providerId}, ${links.length ? JSON.stringify(links) : null}, ${provider})`,
          ),
        );
        await sql`UPDATE messages AS m SET status = 'sent', reason = NULL, provider_message_id = v.provider_id,
            links = v.links, provider = v.provider, sent_at = ${at}, lease_owner = NULL, lease_until = NULL,
            updated_at = ${at}
          FROM (VALUES ${rows}) AS v(id, provider_id, links, provider)
          WHERE m.id = v.id AND m.lease_owner = ${this.options.owner} AND m.status = 'sending'`.execute(trx);
      }
      for (const { message, result, links, provider } of outcomes) {
        if (together && 'status' in result && result.status === 'accepted') continue;
        const mine = trx
          .updateTable('messages')
          .where('id', '=', message.id)
          .where('lease_owner', '=', this.options.owner)
          .where('status', '=', 'sending');
        // The provider that answered, if one did: a message refused or bounced says by whom too.
        const released = {
          lease_owner: null,
          lease_until: null,
          updated_at: at,
          ...(provider && { provider }),
        };
        if ('excluded' in result) {
          await mine.set({ ...released, status: 'excluded', reason: result.excluded }).execute();
        } else if ('failed' in result) {
          await mine.set({ ...released, status: 'failed', reason: result.failed }).execute();
        } else if (result.status === 'accepted') {
          await mine
            .set({
              ...released,
              status: 'sent',
              reason: null,
              provider_message_id: result.providerMessageId,
              links: links.length ? JSON.stringify(links) : null,
              sent_at: at,
            })
            .execute();
        } else if (result.status === 'transient' && message.attempts < maxAttempts) {
          const wait = Math.max(result.retryAfterMs ?? 0, backoff(message.attempts));
          await mine
            .set({ ...released, status: 'queued', reason: result.reason, next_attempt_at: now + wait })
            .execute();
        } else if (result.status === 'transient') {
          await mine
            .set({
              ...released,
              status: 'failed',
              reason: `${result.reason} (after ${message.attempts} attempts)`,
            })
            .execute();
        } else {
          await mine
            .set({
              ...released,
              status: result.bounce ? 'bounced' : 'failed',
              reason: result.reason,
              bounce: result.bounce,
            })
            .execute();
          // A hard bounce: the address does not exist; nothing is sent to it on this channel again.
          if (result.bounce === 'hard')
            await quarantineAddresses(trx, [
              {
                channel: message.channel,
                address: message.address,
                reason: result.reason,
                messageId: message.id,
                at,
              },
            ]);
        }
      }
    });
  }
}

/** Messages of a channel activity not yet in a final state. */
export async function pendingMessages(database: Database, run: string, activity: string): Promise<number> {
  const row = await database.db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('run_id', '=', run)
    .where('activity', '=', activity)
    .where('status', 'in', ['queued', 'sending'])
    .executeTakeFirstOrThrow();
  return Number(row.n);
}
