import type { Command } from 'commander';
import { describeProviders } from '../../channels/providers/registry.ts';
import { loadConfig } from '../../config.ts';
import { loadKeyring } from '../../tracking/keys.ts';
import { openDatabase } from '../../db/database.ts';
import { runSendingLoop } from '../../delivery/sending-loop.ts';
import { Engine } from '../../engine/engine.ts';
import { createLogger } from '../../operations/logger.ts';
import {
  markSchedulerLeader,
  registerProcess,
  type RegisteredProcess,
} from '../../operations/process-registry.ts';
import { SCHEDULER_TICK_MS, Scheduler } from '../../campaigns/scheduler.ts';
import { startBounceMailbox, type BounceMailbox } from '../../tracking/feedback/bounce-mailbox.ts';
import { systemClock } from '../../engine/clock.ts';

/**
 * `baton worker`: a process that executes runs (queued ones, their due timers, and runs whose process
 * died), takes its turn leading the scheduler, and sends the ledger's messages, sharing the work with any
 * other worker and server on the same database. SIGTERM or Ctrl+C stops it after the batch in flight; a
 * worker killed outright leaves leases that lapse, and the others recover its runs and messages.
 */
export function workerCommand(program: Command): void {
  program
    .command('worker')
    .description('execute runs and send messages, next to the server (any number of them)')
    .action(async () => {
      const config = loadConfig();
      describeProviders(config);
      // Tracking links are signed: a server on PostgreSQL without BATON_SECRET stops here, saying so.
      loadKeyring(config);
      // Info by default, unlike the server: a worker has no line per request, and its start and stop matter.
      const log = createLogger({ level: config.logLevel ?? 'info', format: config.logFormat });
      const database = await openDatabase(config);
      const engine = new Engine(database, { concurrency: config.runConcurrency });
      const stop = new AbortController();
      const onSignal = (signal: NodeJS.Signals) => {
        log.info({ signal }, 'worker stopping after the batch in flight');
        stop.abort();
      };
      process.once('SIGINT', onSignal);
      process.once('SIGTERM', onSignal);
      const report = (what: string) => (error: unknown) => log.error({ error }, what);
      let registration: RegisteredProcess | undefined;
      let scheduler: Scheduler | undefined;
      let mailbox: BounceMailbox | undefined;
      try {
        registration = await registerProcess(database, {
          kind: 'worker',
          onError: report('heartbeat failed'),
        });
        engine.startSweeping(2_000, report('executing runs failed'));
        const id = registration.id;
        scheduler = new Scheduler(database, engine, {
          clock: systemClock,
          archiveDays: config.archivePurgeDays,
          onLeadership: (leader) => markSchedulerLeader(database, id, leader),
        });
        scheduler.start(SCHEDULER_TICK_MS, report('scheduler tick failed'));
        mailbox = startBounceMailbox(database, config, log);
        log.info(
          { worker: registration.id, database: database.kind, runConcurrency: config.runConcurrency },
          'worker started: executing runs and sending messages',
        );
        await runSendingLoop(database, config, stop.signal, report('sending failed'));
      } finally {
        await scheduler?.stop();
        await mailbox?.stop();
        await registration?.close();
        await engine.close();
        await database.close();
      }
      log.info({ worker: registration.id }, 'worker stopped');
    });
}
