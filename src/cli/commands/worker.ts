import type { Command } from 'commander';
import { describeProviders } from '../../channels/providers/registry.ts';
import { loadConfig } from '../../config.ts';
import { loadKeyring } from '../../tracking/keys.ts';
import { openDatabase } from '../../db/database.ts';
import { runSendingLoop } from '../../delivery/sending-loop.ts';
import { Engine } from '../../engine/engine.ts';

/**
 * `baton worker`: a process that executes runs (their due timers, and runs whose process died) and sends
 * the ledger's messages, sharing the work with any other worker and server on the same database. SIGTERM
 * or Ctrl+C stops it after the batch in flight; a worker killed outright leaves leases that lapse, and the
 * others recover its runs and messages.
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
      const database = await openDatabase(config);
      const engine = new Engine(database, { concurrency: config.runConcurrency });
      const stop = new AbortController();
      process.once('SIGINT', () => stop.abort());
      process.once('SIGTERM', () => stop.abort());
      const report = (what: string) => (error: unknown) =>
        process.stderr.write(`${what}: ${(error as Error).message}\n`);
      try {
        engine.startSweeping(2_000, report('executing runs failed'));
        process.stderr.write(
          `Baton worker ${process.pid} is executing runs and sending messages (${database.kind}); Ctrl+C stops it.\n`,
        );
        await runSendingLoop(database, config, stop.signal, report('sending failed'));
      } finally {
        await engine.close();
        await database.close();
      }
    });
}
