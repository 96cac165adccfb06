import { sql } from 'kysely';
import type { Database } from '../db/database.ts';
import { messageId } from '../delivery/message-id.ts';
import type { Engine } from '../engine/engine.ts';
import type { Clock } from '../engine/clock.ts';
import { completeFinished, purgeArchived } from './lifecycle.ts';
import { dueLaunch, nextLaunches, type Schedule } from './schedule.ts';
import { triggerFromSignals } from './triggers.ts';

/**
 * The scheduler: every few seconds, launches the scheduled campaigns whose slot has come (applying the
 * missed-launch policy of schedule.ts dueLaunch), turns end activities' signals into runs of the campaigns
 * they target, completes campaigns whose work is over and purges old archived ones.
 *
 * One process leads at a time on PostgreSQL: each tick runs inside a transaction holding an advisory
 * lock, so a tick is skipped by every process but the one holding it, and another takes over at its next
 * tick when the leader dies (the lock goes with its connection). Launches are idempotent besides: a
 * scheduled run's id comes from the campaign, version and slot, so two processes ticking at once (two
 * processes on one SQLite file) still make one run per slot.
 */
const LEADER_LOCK = 0x6261746f6e; // "baton"
/** How often servers and workers tick: a launch starts at most this late after its slot. */
export const SCHEDULER_TICK_MS = 5_000;

export interface TickResult {
  leader: boolean;
  launched: Array<{ campaign: string; run: string; slot: string }>;
  /** Slots missed beyond the grace period, not launched (the policy in docs/schedules.md). */
  skipped: Array<{ campaign: string; slot: string }>;
  triggered: string[];
  completed: string[];
  purged: string[];
}

export interface SchedulerOptions {
  clock: Clock;
  /** Days archived campaigns are kept. */
  archiveDays?: number;
  /**
   * Told after each tick it led, and when it stops leading (the process registry's flag, which a
   * registry row written again would lose, hence at every tick).
   */
  onLeadership?: (leader: boolean) => Promise<void>;
}

export class Scheduler {
  private timer: NodeJS.Timeout | undefined;
  private leader = false;
  private ticking: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly database: Database,
    private readonly engine: Engine,
    private readonly options: SchedulerOptions,
  ) {}

  /** One tick, as the leader if this process can be; a tick that cannot lead does nothing. */
  async tick(): Promise<TickResult> {
    const result: TickResult = {
      leader: false,
      launched: [],
      skipped: [],
      triggered: [],
      completed: [],
      purged: [],
    };
    if (this.database.kind === 'postgres') {
      // A transaction on one connection holds the lock for the whole tick; the work itself goes through
      // the pool, guarded by the lock (whoever holds it is the only one doing it).
      await this.database.db.transaction().execute(async (trx) => {
        const { rows } = await sql<{
          locked: boolean;
        }>`SELECT pg_try_advisory_xact_lock(${LEADER_LOCK}) AS locked`.execute(trx);
        if (!rows[0]?.locked) return;
        result.leader = true;
        await this.work(result);
      });
    } else {
      result.leader = true;
      await this.work(result);
    }
    if (result.leader || this.leader) await this.options.onLeadership?.(result.leader);
    this.leader = result.leader;
    return result;
  }

  /** Ticks now and every `intervalMs`; a tick that fails is reported and the next one tries again. */
  start(intervalMs: number, onError: (error: unknown) => void): void {
    const run = () => {
      this.ticking = this.tick().catch(onError);
    };
    run();
    this.timer = setInterval(run, intervalMs);
    this.timer.unref();
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.ticking;
    if (this.leader) await this.options.onLeadership?.(false);
    this.leader = false;
  }

  private async work(result: TickResult): Promise<void> {
    const now = this.options.clock.now();
    await this.launchDue(now, result);
    result.triggered = await triggerFromSignals(this.database, this.engine, new Date(now));
    result.completed = await completeFinished(this.database, new Date(now));
    result.purged = await purgeArchived(this.database, new Date(now), this.options.archiveDays);
  }

  private async launchDue(now: number, result: TickResult): Promise<void> {
    const due = await this.database.db
      .selectFrom('schedules')
      .innerJoin('campaigns', 'campaigns.id', 'schedules.campaign_id')
      .select(['schedules.campaign_id', 'schedules.version', 'schedules.schedule', 'schedules.last_at'])
      .where('schedules.next_at', '<=', now)
      .where('campaigns.status', 'in', ['scheduled', 'live'])
      .execute();
    for (const row of due) {
      const schedule = JSON.parse(row.schedule) as Schedule;
      const last = row.last_at === null ? null : new Date(Number(row.last_at));
      const slot = dueLaunch(schedule, last, new Date(now));
      // Slots between the last one dealt with and now that are not launched were missed for too long.
      for (const missed of nextLaunches(schedule, last ?? new Date(0), 1000)) {
        if (missed.getTime() > now) break;
        if (slot && missed.getTime() === slot.getTime()) continue;
        result.skipped.push({ campaign: row.campaign_id, slot: missed.toISOString() });
      }
      if (slot) {
        const id = messageId(`schedule/${row.campaign_id}/${row.version}/${slot.toISOString()}`);
        const made = await this.engine.enqueueOnce(row.campaign_id, {
          id,
          mode: 'live',
          trigger: 'schedule',
          version: Number(row.version),
          // The run's "now" is its slot: rules read the time it was due, not the time it started.
          now: slot.getTime(),
        });
        if (made) result.launched.push({ campaign: row.campaign_id, run: id, slot: slot.toISOString() });
      }
      const next = nextLaunches(schedule, new Date(now), 1)[0];
      await this.database.db
        .updateTable('schedules')
        .set({ last_at: now, next_at: next?.getTime() ?? null, updated_at: new Date(now).toISOString() })
        .where('campaign_id', '=', row.campaign_id)
        .execute();
      if (slot)
        await this.database.db
          .updateTable('campaigns')
          .set({ status: 'live', status_changed_at: new Date(now).toISOString() })
          .where('id', '=', row.campaign_id)
          .where('status', '=', 'scheduled')
          .execute();
    }
  }
}
