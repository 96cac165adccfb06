import { spawn, type ChildProcess } from 'node:child_process';
import { availableParallelism, cpus } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { saveCampaign } from '../src/campaigns/store.ts';
import { loadDemo } from '../src/data/demo/load-demo.ts';
import type { Database } from '../src/db/database.ts';
import { ledgerCounts } from '../src/delivery/queue.ts';
import { Engine } from '../src/engine/engine.ts';
import { onEachDatabase, type BenchConfig } from './databases.ts';
import { startSink } from './smtp-sink.ts';

/**
 * bench/scale: the same live email campaign to the demo's profiles, sent on PostgreSQL by 1 `baton worker`
 * and then by 3, to a local SMTP sink in a process of its own: the time from the messages being queued
 * to the last one final, messages per second, and the speed-up of 3 workers over 1 — with the machine's
 * core count beside it, since workers only add speed while there are cores to run them.
 */
const AS_OF = new Date('2026-11-01T00:00:00Z');

function startWorkers(n: number, config: BenchConfig, smtpUrl: string): ChildProcess[] {
  return Array.from({ length: n }, () => {
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of ['PORT', 'HOST', 'LOG_LEVEL']) delete env[key];
    Object.assign(env, {
      BATON_DATA_DIR: config.dataDir,
      DATABASE_URL: config.databaseUrl,
      SMTP_URL: smtpUrl,
      SMTP_MAX_CONNECTIONS: '20',
      BATON_SECRET: 'b'.repeat(40),
      BATON_PUBLIC_URL: 'https://t.example',
      LOG_LEVEL: 'warn',
    });
    return spawn(process.execPath, ['bin/baton.js', 'worker'], {
      env,
      stdio: ['ignore', 'ignore', 'inherit'],
    });
  });
}

/** Waits until `n` workers have registered (they heartbeat in `workers`). */
async function workersReady(database: Database, n: number): Promise<void> {
  const until = Date.now() + 60_000;
  for (;;) {
    const row = await database.db
      .selectFrom('workers')
      .select((eb) => eb.fn.countAll().as('n'))
      .where('kind', '=', 'worker')
      .executeTakeFirstOrThrow();
    if (Number(row.n) >= n) return;
    if (Date.now() > until) throw new Error(`${n} workers did not start within a minute`);
    await delay(100);
  }
}

async function sendWith(
  database: Database,
  config: BenchConfig,
  workers: number,
  campaign: string,
): Promise<{ ms: number; sent: number }> {
  const sink = await startSink();
  const processes = startWorkers(workers, config, sink.url);
  try {
    await workersReady(database, workers);
    // The run is started here and queues its messages; the workers' senders take them.
    const engine = new Engine(database);
    const { run, finished } = await engine.start(campaign, { mode: 'live', now: AS_OF.getTime() });
    await finished;
    await engine.close();
    const start = performance.now();
    for (;;) {
      const counts = await ledgerCounts(database, run, 'mail');
      if ((counts.byStatus.queued ?? 0) + (counts.byStatus.sending ?? 0) === 0) break;
      await delay(100);
    }
    const ms = performance.now() - start;
    return { ms, sent: (await ledgerCounts(database, run, 'mail')).byStatus.sent ?? 0 };
  } finally {
    for (const p of processes) p.kill('SIGTERM');
    await Promise.all(processes.map((p) => new Promise((resolve) => p.once('exit', resolve))));
    sink.stop();
  }
}

async function benchDatabase(label: string, database: Database, config: BenchConfig, profiles: number) {
  await loadDemo(database, { profiles, asOf: AS_OF, force: true });
  const results: Array<{ workers: number; ms: number; sent: number }> = [];
  for (const workers of [1, 3]) {
    const campaign = `scale-${workers}`;
    await saveCampaign(database, {
      id: campaign,
      name: `Scale ${workers}`,
      activities: {
        everyone: { type: 'build-audience', dimension: 'profiles' },
        mail: {
          type: 'email',
          input: 'everyone',
          category: 'transactional',
          from: 'shop@example.test',
          subject: '{{ profile.first_name }}, new arrivals',
          html: '<html><body><p>Hello {{ profile.first_name }}, see <a href="https://shop.example/new?c={{ profile.id }}">what is new</a>.</p></body></html>',
        },
      },
    });
    results.push({ workers, ...(await sendWith(database, config, workers, campaign)) });
  }
  const [one, three] = results as [(typeof results)[0], (typeof results)[0]];
  const rate = (r: (typeof results)[0]) => (r.sent / r.ms) * 1000;
  process.stdout.write(
    `${label}: ${profiles.toLocaleString('en-US')} profiles, ${cpus().length} cores (${availableParallelism()} available)\n` +
      results
        .map(
          (r) =>
            `  ${r.workers} worker${r.workers > 1 ? 's' : ''}: ${r.sent.toLocaleString('en-US')} sent in ${(r.ms / 1000).toFixed(2)} s = ${rate(r).toFixed(0)} messages/s\n`,
        )
        .join('') +
      `  speed-up of 3 workers over 1: ${(one.ms / three.ms).toFixed(2)}× (target ≥ 2.5× where cores and the sink allow)\n`,
  );
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({ args, options: { profiles: { type: 'string', default: '100000' } } });
  const profiles = Number(values.profiles);
  process.stdout.write(`bench/scale: one email campaign, 1 then 3 baton workers on PostgreSQL\n`);
  await onEachDatabase('scale', 'postgres', (label, database, config) =>
    benchDatabase(label, database, config, profiles),
  );
}
