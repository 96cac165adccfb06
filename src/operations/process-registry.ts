import { randomBytes } from 'node:crypto';
import { hostname } from 'node:os';
import type { Database } from '../db/database.ts';

/**
 * Every server and worker process sharing a database has a row in `workers`, refreshed by a heartbeat:
 * /healthz and /metrics count the live ones, and the scheduler marks which one leads it. A graceful stop
 * deletes the row; a process killed outright leaves it to go stale, and whoever heartbeats next prunes it.
 */
export type ProcessKind = 'server' | 'worker';

export const HEARTBEAT_MS = 10_000;
/** Three missed heartbeats: a row not seen for this long is no longer counted as alive. */
export const ALIVE_MS = 30_000;
/** Twice that: long enough that a process stalled by a slow database is not pruned while it still runs. */
export const STALE_MS = 60_000;

export interface RegisterOptions {
  kind: ProcessKind;
  heartbeatMs?: number;
  now?: () => number;
  /**
   * A heartbeat that failed (the database unreachable; the next one tries again), or the delete of
   * close(): a stop must go on regardless, and a row left behind goes stale and is pruned.
   */
  onError?: (error: unknown) => void;
}

export interface RegisteredProcess {
  readonly id: string;
  /** Refreshes this row (putting it back if it was pruned meanwhile) and prunes stale rows. */
  heartbeat(): Promise<void>;
  /** Stops the heartbeat and deletes this row; never throws. */
  close(): Promise<void>;
}

export interface LiveProcess {
  id: string;
  kind: string;
  host: string;
  pid: number;
  startedAt: string;
  seenMs: number;
  scheduler: boolean;
}

export async function registerProcess(
  database: Database,
  options: RegisterOptions,
): Promise<RegisteredProcess> {
  const now = options.now ?? Date.now;
  const host = hostname();
  const id = `${host}-${process.pid}-${randomBytes(2).toString('hex')}`;
  const row = {
    id,
    kind: options.kind,
    host,
    pid: process.pid,
    started_at: new Date(now()).toISOString(),
    scheduler: database.dialect.storedBoolean(false),
  };
  await database.db
    .insertInto('workers')
    .values({ ...row, seen_ms: now() })
    .execute();
  await pruneStale(database, now());

  let closed = false;
  // Beats never overlap, and close() waits for the one in flight so that it cannot re-insert the row.
  let beating: Promise<void> = Promise.resolve();
  const beat = async () => {
    const seen = now();
    const updated = await database.db
      .updateTable('workers')
      .set({ seen_ms: seen })
      .where('id', '=', id)
      .executeTakeFirst();
    // Pruned by another process while this one was stalled (a suspended machine, a long outage): it is
    // alive again, so it counts again. Whether it leads the scheduler is the scheduler's to say anew.
    if (Number(updated.numUpdatedRows) === 0) {
      await database.db
        .insertInto('workers')
        .values({ ...row, seen_ms: seen })
        .execute();
    }
    await pruneStale(database, seen);
  };
  const heartbeat = () => {
    if (closed) return Promise.resolve();
    beating = beating.catch(() => undefined).then(beat);
    return beating;
  };
  const timer = setInterval(
    () => void heartbeat().catch((error: unknown) => options.onError?.(error)),
    options.heartbeatMs ?? HEARTBEAT_MS,
  );
  // The heartbeat alone never keeps a process running.
  timer.unref();

  return {
    id,
    heartbeat,
    async close() {
      if (closed) return;
      closed = true;
      clearInterval(timer);
      await beating.catch(() => undefined);
      await database.db
        .deleteFrom('workers')
        .where('id', '=', id)
        .execute()
        .catch((error: unknown) => options.onError?.(error));
    },
  };
}

async function pruneStale(database: Database, now: number): Promise<void> {
  await database.db
    .deleteFrom('workers')
    .where('seen_ms', '<', now - STALE_MS)
    .execute();
}

/** The processes that heartbeated within ALIVE_MS of `now`: a handful of rows, read in one query. */
export async function liveProcesses(database: Database, now: number = Date.now()): Promise<LiveProcess[]> {
  const rows = await database.db
    .selectFrom('workers')
    .selectAll()
    .where('seen_ms', '>=', now - ALIVE_MS)
    .orderBy('id')
    .execute();
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    host: r.host,
    pid: Number(r.pid),
    startedAt: r.started_at,
    seenMs: Number(r.seen_ms),
    scheduler: Boolean(r.scheduler),
  }));
}

/**
 * Records whether this process leads the scheduler now. Only its own row changes: two live rows both
 * marked would show two processes that each believe they lead, which the metrics should reveal rather
 * than hide. A row pruned and put back starts unmarked, so a leader marks itself again as it renews.
 */
export async function markSchedulerLeader(
  database: Database,
  processId: string,
  isLeader: boolean,
): Promise<void> {
  await database.db
    .updateTable('workers')
    .set({ scheduler: database.dialect.storedBoolean(isLeader) })
    .where('id', '=', processId)
    .execute();
}

/** The leader among live processes (the most recently seen if several claim it), or null. */
export function schedulerLeader(processes: LiveProcess[]): string | null {
  let leader: LiveProcess | undefined;
  for (const p of processes) if (p.scheduler && (!leader || p.seenMs > leader.seenMs)) leader = p;
  return leader?.id ?? null;
}
