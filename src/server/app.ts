import path from 'node:path';
import Fastify, { type FastifyBaseLogger, type FastifyInstance } from 'fastify';
import type { BatonConfig } from '../config.ts';
import type { Database } from '../db/database.ts';
import { Engine } from '../engine/engine.ts';
import { systemClock } from '../engine/clock.ts';
import { SCHEDULER_TICK_MS, Scheduler } from '../campaigns/scheduler.ts';
import { createProviders } from '../channels/providers/registry.ts';
import type { ProofServices } from '../delivery/proofs.ts';
import { loadKeyring } from '../tracking/keys.ts';
import { TokenSigner } from '../tracking/tokens.ts';
import { DEFAULT_MAILBOX_POLL_MS, startBounceMailbox } from '../tracking/feedback/bounce-mailbox.ts';
import { trackingRoutes, trackingSigner } from '../tracking/routes.ts';
import { filesFolder } from '../data/files-folder.ts';
import { createLogger } from '../operations/logger.ts';
import { registerErrorHandler } from './errors.ts';
import { audienceRoutes } from './routes/audiences.ts';
import { campaignRoutes } from './routes/campaigns.ts';
import { fileRoutes } from './routes/files.ts';
import { healthRoutes } from './routes/health.ts';
import { metricsRoutes } from './routes/metrics.ts';
import { ledgerRoutes } from './routes/ledger.ts';
import { lifecycleRoutes } from './routes/lifecycle.ts';
import { outboxRoutes } from './routes/outbox.ts';
import { reportRoutes } from './routes/reports.ts';
import { ruleRoutes } from './routes/rules.ts';
import { runMonitorRoutes } from './routes/run-events.ts';
import { runRoutes } from './routes/runs.ts';
import { schemaRoutes } from './routes/schema.ts';
import { tableRoutes } from './routes/tables.ts';
import { webhookRoutes } from './routes/webhooks.ts';
import { MAX_UPLOAD_BYTES } from './uploads.ts';

export interface AppOptions {
  /** pino logging (off in tests). */
  logger?: boolean;
  /**
   * Run the scheduler (launches, signals, completion, archive purge) in this server: what `baton start`
   * and `baton server` do; tests drive a Scheduler themselves. `onLeadership` marks the process registry.
   */
  scheduler?: { onLeadership?: (leader: boolean) => Promise<void> };
}

export async function buildApp(
  database: Database,
  /** The data folder at least; the server passes all of it (providers and signing keys for proofs). */
  config: Pick<BatonConfig, 'dataDir'> & Partial<BatonConfig>,
  options: AppOptions = {},
): Promise<FastifyInstance> {
  const app = Fastify({
    // Warnings and errors by default: a line per request (info) drowns what matters in a terminal;
    // LOG_LEVEL=info brings them back.
    // Typed as fastify's logger: the app's type stays the one every route takes.
    loggerInstance: options.logger
      ? (createLogger({ level: config.logLevel ?? 'warn', format: config.logFormat }) as FastifyBaseLogger)
      : undefined,
    bodyLimit: MAX_UPLOAD_BYTES,
  });
  registerErrorHandler(app);
  // Multipart bodies are parsed only by the routes that take files (uploads.ts). CSV uploads arrive as a stream and are written to disk as they come, never buffered whole.
  app.addContentTypeParser(['text/csv', 'application/octet-stream'], (_request, payload, done) =>
    done(null, payload),
  );
  app.addContentTypeParser(
    ['application/yaml', 'text/yaml', 'application/x-yaml', 'text/plain'],
    { parseAs: 'string' },
    (_request, body, done) => done(null, body),
  );

  healthRoutes(app, database);
  metricsRoutes(app, database);
  schemaRoutes(app, database);
  ruleRoutes(app, database);
  campaignRoutes(app, database);
  // Runs execute in worker threads; the sweep wakes runs whose waits are due and takes over runs whose
  // process died.
  const engine = new Engine(database, { inWorker: true, concurrency: config.runConcurrency });
  engine.startSweeping(2_000, (error) => app.log.error({ error }, 'sweeping runs failed'));
  if (options.scheduler) {
    const scheduler = new Scheduler(database, engine, {
      clock: systemClock,
      archiveDays: config.archivePurgeDays,
      onLeadership: options.scheduler.onLeadership,
    });
    scheduler.start(SCHEDULER_TICK_MS, (error) => app.log.error({ error }, 'scheduler tick failed'));
    app.addHook('onClose', () => scheduler.stop());
    // Bounce reports waiting in a POP3 mailbox are read by the processes that run the scheduler.
    const mailbox = startBounceMailbox(
      database,
      {
        bounceMailboxUrl: config.bounceMailboxUrl,
        bounceMailboxPollMs: config.bounceMailboxPollMs ?? DEFAULT_MAILBOX_POLL_MS,
      },
      app.log,
    );
    if (mailbox) app.addHook('onClose', () => mailbox.stop());
  }
  app.addHook('onClose', () => engine.close());
  // Proofs send through the providers and sign with the server's keys: only with the full configuration.
  const proofs = proofServices(config, database);
  if (proofs) app.addHook('onClose', () => proofs.providers.close());
  runRoutes(app, database, engine, proofs);
  runMonitorRoutes(app, database);
  lifecycleRoutes(app, database, engine);
  audienceRoutes(app, database);
  tableRoutes(app, database, path.join(config.dataDir, 'uploads'));
  fileRoutes(app, filesFolder(config.dataDir));
  outboxRoutes(app, database);
  ledgerRoutes(app, database);
  reportRoutes(app, database);
  // Opens, clicks and unsubscribes: with the full configuration, which names the keys links are signed with.
  const signer = trackingSigner(config, database);
  if (signer) {
    trackingRoutes(app, database, {
      signer,
      onError: (error) => app.log.error({ error }, 'writing tracking events failed'),
    });
  }
  // Provider feedback: with the providers' settings, which hold the secrets requests are checked with.
  if (config.providers && config.publicUrl !== undefined) {
    webhookRoutes(app, database, {
      publicUrl: config.publicUrl,
      webhookSecret: config.webhookSecret,
      providers: config.providers,
    });
  }
  return app;
}

function proofServices(
  config: Pick<BatonConfig, 'dataDir'> & Partial<BatonConfig>,
  database: Database,
): ProofServices | undefined {
  if (!config.providers || config.publicUrl === undefined || config.outboxPort === undefined)
    return undefined;
  const full = {
    ...config,
    databaseUrl: config.databaseUrl,
    providers: config.providers,
    outboxPort: config.outboxPort,
  };
  return {
    providers: createProviders(full, database),
    signer: new TokenSigner(
      loadKeyring({ ...full, secret: config.secret, previousSecrets: config.previousSecrets }),
    ),
    publicUrl: config.publicUrl,
  };
}
