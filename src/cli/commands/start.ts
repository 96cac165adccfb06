import type { Command } from 'commander';
import { loadExampleCampaigns } from '../../campaigns/examples.ts';
import { startDevOutbox, type DevOutbox } from '../../channels/outbox/smtp-server.ts';
import { describeProviders } from '../../channels/providers/registry.ts';
import { loadConfig } from '../../config.ts';
import { loadKeyring } from '../../tracking/keys.ts';
import { startSenderThread } from '../../delivery/sender-thread.ts';
import { purgeOldRuns } from '../../engine/retention.ts';
import { openDatabase, type Database } from '../../db/database.ts';
import {
  markSchedulerLeader,
  registerProcess,
  type RegisteredProcess,
} from '../../operations/process-registry.ts';
import { markInterruptedImports } from '../../data/import/import-history.ts';
import { DEFAULT_DEMO_PROFILES, loadDemo } from '../../data/demo/load-demo.ts';
import { loadSchema } from '../../schema/store.ts';
import { createProgressBar } from '../progress.ts';

/**
 * `baton start` (embedded: creates the demo workspace on first run) and `baton server` (serves whatever
 * workspace the database holds). Both stop cleanly on SIGINT / SIGTERM.
 */
async function serve(options: { demoOnFirstRun: boolean }): Promise<void> {
  const config = loadConfig();
  // Provider settings that are chosen but incomplete stop the start, naming what is missing.
  describeProviders(config);
  // Tracking links are signed: a server on PostgreSQL without BATON_SECRET stops here, saying so.
  loadKeyring(config);
  const database = await openDatabase(config);
  try {
    await markInterruptedImports(database);
    if (options.demoOnFirstRun && !(await loadSchema(database))) {
      process.stderr.write(
        `First run: creating the demo workspace (${DEFAULT_DEMO_PROFILES.toLocaleString('en-US')} profiles)…\n`,
      );
      const bar = createProgressBar('demo', true);
      const demo = await loadDemo(database, {
        onProgress: (table, rows, total) => bar.update(rows, total, { detail: table }),
      });
      bar.stop();
      const campaigns = await loadExampleCampaigns(database);
      process.stderr.write(
        `Demo workspace ready in ${(demo.durationMs / 1000).toFixed(1)} s, with the example campaigns ${campaigns.join(', ')}.\n`,
      );
    }
    // Loaded here, not at the top: the other commands should not pay for the HTTP stack at start-up.
    const { buildApp } = await import('../../server/app.ts');
    // Registered once listening: the scheduler's first ticks may come before, and mark nothing.
    const registered: { process?: RegisteredProcess } = {};
    const app = await buildApp(database, config, {
      logger: true,
      scheduler: {
        onLeadership: async (leader) => {
          if (registered.process) await markSchedulerLeader(database, registered.process.id, leader);
        },
      },
    });
    await app.listen({ port: config.port, host: config.host });
    const registration = await registerProcess(database, {
      kind: 'server',
      onError: (error) => app.log.error({ error }, 'heartbeat failed'),
    });
    registered.process = registration;
    // Embedded mode without SMTP_URL sends its email to the dev outbox (src/channels/providers/registry.ts).
    const outbox =
      database.kind === 'sqlite' && config.providers.smtpUrl === undefined
        ? await openDevOutbox(database, config.outboxPort)
        : undefined;
    // The ledger's messages are sent from a thread of their own (a live run's channel activities queue them).
    const sender = startSenderThread(config, (message) =>
      app.log.error({ sender: message }, 'sending failed'),
    );
    // Working tables of old runs are dropped now and every hour (their counts and logs stay).
    const purge = () =>
      purgeOldRuns(database, { days: config.runRetentionDays }).catch((error: unknown) =>
        app.log.error({ error }, 'purging old runs failed'),
      );
    void purge();
    setInterval(() => void purge(), 3_600_000).unref();
    const where = database.kind === 'sqlite' ? database.location : 'PostgreSQL (DATABASE_URL)';
    const base = `http://${config.host === '0.0.0.0' ? 'localhost' : config.host}:${config.port}`;
    process.stderr.write(
      `\nBaton is running at ${base} (data: ${where})\n` +
        `  health        ${base}/healthz\n` +
        `  schema (ER)   ${base}/api/schema/er\n` +
        `  tables        ${base}/api/tables\n` +
        `  rows          ${base}/api/tables/profiles/rows?limit=20\n` +
        `  imports       ${base}/api/imports\n` +
        `  functions     ${base}/api/rules/functions  (rules: POST /api/rules/count, see docs/rules.md)\n` +
        `  campaigns     ${base}/api/campaigns  (a test run: npx baton run spring-sale --test;\n` +
        `                send for real: npx baton publish vip-event, then npx baton confirm <run>)\n` +
        `  metrics       ${base}/metrics\n` +
        (outbox
          ? `  dev outbox    smtp://127.0.0.1:${outbox.port} receives every email; read them at ${base}/api/outbox\n`
          : '') +
        'Press Ctrl+C to stop.\n',
    );
    await new Promise<void>((resolve) => {
      const stop = () => resolve();
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await registration.close();
    await sender.stop();
    await outbox?.close();
    await app.close();
  } finally {
    await database.close();
  }
}

/**
 * Embedded mode's dev outbox. A port already taken is a warning, not a failure: the rest of Baton works,
 * and only email waits for the port (or for SMTP_URL).
 */
async function openDevOutbox(database: Database, port: number): Promise<DevOutbox | undefined> {
  try {
    return await startDevOutbox({ database, port });
  } catch (error) {
    const why =
      (error as NodeJS.ErrnoException).code === 'EADDRINUSE'
        ? 'is taken'
        : `failed: ${(error as Error).message}`;
    process.stderr.write(
      `\nWarning: the dev outbox could not listen on 127.0.0.1:${port} (the port ${why}). Emails will fail ` +
        'until the port is free (restart Baton), BATON_OUTBOX_PORT names another one, or SMTP_URL points at a real server.\n',
    );
    return undefined;
  }
}

export function startCommands(program: Command): void {
  program
    .command('start')
    .description('run Baton embedded: the server, and the demo workspace on first run')
    .action(() => serve({ demoOnFirstRun: true }));
  program
    .command('server')
    .description('run the HTTP server on the configured database (no demo data is created)')
    .action(() => serve({ demoOnFirstRun: false }));
}
