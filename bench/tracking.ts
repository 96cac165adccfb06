import { createRequire } from 'node:module';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import Fastify from 'fastify';
import { saveCampaign } from '../src/campaigns/store.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemo } from '../src/data/demo/load-demo.ts';
import type { Database } from '../src/db/database.ts';
import { runStatus } from '../src/engine/run-inspection.ts';
import { buildApp } from '../src/server/app.ts';
import { loadKeyring } from '../src/tracking/keys.ts';
import { TokenSigner } from '../src/tracking/tokens.ts';
import { insertSentMessages } from './sent-messages.ts';
import { onEachDatabase, type BenchConfig } from './databases.ts';

/**
 * bench/tracking: open-pixel and click requests per second, with p50 / p99 latency, against the tracking
 * endpoints of the real server (buildApp, events written to the database in batches), fired by
 * autocannon from worker threads over 127.0.0.1 — against a bare Fastify route answering the same pixel,
 * measured in the same run, before and after them (the better of the two is the bound), each target
 * after an unmeasured second of warm-up. Then the same while test runs build an audience of the demo's
 * 1,000,000 profiles (an aggregate over their purchases, deduplicated) in the server's run worker thread.
 * Each request is one event: the events written are counted against the requests answered. `--only
 * sqlite` (or `postgres`) and `--phase idle` (or `audience`) run a part of it.
 */
const AS_OF = new Date('2026-11-01T00:00:00Z');
const SECRET = 't'.repeat(40);
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
const USER_AGENT =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15';
/** The click rule holds clicks of a burst this long; the count waits it out. */
const SETTLE_MS = 2_500;

const AUDIENCE = {
  id: 'bench-audience',
  name: 'Audience while tracking',
  activities: {
    buyers: {
      type: 'build-audience',
      dimension: 'profiles',
      rule: {
        aggregate: 'sum',
        of: 'purchases.amount',
        where: { field: 'purchased_at', op: 'gte', value: { expr: 'DaysAgo(365)' } },
        op: 'gte',
        value: 50,
      },
    },
    unique: {
      type: 'deduplicate',
      input: 'buyers',
      fields: ['email'],
      method: 'expression',
      expression: 'created_at',
      order: 'max',
    },
  },
};

/** The part of autocannon's programmatic API used here (the package ships no types). */
interface CannonResult {
  requests: { average: number; total: number };
  latency: { p50: number; p99: number; max: number };
  '2xx': number;
  '3xx': number;
  '4xx': number;
  '5xx': number;
  errors: number;
  timeouts: number;
}
type Cannon = (options: {
  url: string;
  connections: number;
  duration: number;
  workers: number;
  headers: Record<string, string>;
  requests?: Array<{ method: 'GET'; path: string }>;
}) => Promise<CannonResult>;
const autocannon = createRequire(import.meta.url)('autocannon') as Cannon;

const PHASES = ['idle', 'audience'] as const;
type Phase = (typeof PHASES)[number];

interface Load {
  connections: number;
  duration: number;
  workers: number;
}

function fire(url: string, paths: string[] | undefined, load: Load): Promise<CannonResult> {
  return autocannon({
    url,
    ...load,
    headers: { 'user-agent': USER_AGENT },
    requests: paths?.map((path) => ({ method: 'GET', path })),
  });
}

function line(label: string, result: CannonResult, bare?: CannonResult): string {
  const failures = Object.entries({
    '4xx': result['4xx'],
    '5xx': result['5xx'],
    errors: result.errors,
    timeouts: result.timeouts,
  }).filter(([, n]) => n > 0);
  return (
    `  ${label.padEnd(30)} ${Math.round(result.requests.average).toLocaleString('en-US').padStart(7)} req/s, ` +
    `p50 ${result.latency.p50.toFixed(1)} ms, p99 ${result.latency.p99.toFixed(1)} ms, max ${result.latency.max.toFixed(0)} ms` +
    (bare ? `, ${(result.requests.average / bare.requests.average).toFixed(2)}× the bare route` : '') +
    (failures.length ? `, FAILED: ${failures.map(([what, n]) => `${n} ${what}`).join(', ')}` : '') +
    '\n'
  );
}

async function countEvents(database: Database): Promise<number> {
  const row = await database.db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** Test runs of the audience campaign one after the other, over HTTP, until `stop` is called. */
function buildAudiences(base: string, database: Database): { stop: () => Promise<number> } {
  let stopping = false;
  let runs = 0;
  const loop = (async () => {
    while (!stopping) {
      const response = await fetch(`${base}/api/campaigns/${AUDIENCE.id}/test-runs`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ now: AS_OF.toISOString() }),
      });
      const { run } = (await response.json()) as { run: string };
      runs += 1;
      for (;;) {
        const { status } = await runStatus(database, run);
        if (status !== 'running') {
          if (status !== 'done') throw new Error(`the audience run ${run} ended ${status}`);
          break;
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
  })();
  return {
    stop: async () => {
      stopping = true;
      await loop;
      return runs;
    },
  };
}

async function benchDatabase(
  label: string,
  database: Database,
  bench: BenchConfig,
  values: { profiles: number; messages: number; load: Load; phase: Phase | undefined },
): Promise<void> {
  const loaded = await loadDemo(database, { profiles: values.profiles, asOf: AS_OF, force: true });
  await saveCampaign(database, AUDIENCE);
  // Sent an hour ago, with three links each, as a live email send leaves them in the ledger.
  const sentAt = new Date(Date.now() - 3_600_000).toISOString();
  const ids = await insertSentMessages(database, values.messages, sentAt, (n) => ({
    run_id: 'bench-run',
    activity: 'mail',
    campaign_id: 'bench-mail',
    channel: 'email',
    address: `p${n}@example.test`,
    provider: 'smtp',
    links: JSON.stringify([
      `https://shop.example/new?c=${n}`,
      'https://shop.example/account',
      'https://shop.example/help',
    ]),
  }));
  process.stdout.write(
    `${label}: profiles ${loaded.rows.profiles!.toLocaleString('en-US')}, purchases ${loaded.rows.purchases!.toLocaleString('en-US')} (loaded in ${(loaded.durationMs / 1000).toFixed(1)} s); ${values.messages.toLocaleString('en-US')} sent messages\n`,
  );
  const config = loadConfig(
    {
      BATON_DATA_DIR: bench.dataDir,
      ...(bench.databaseUrl ? { DATABASE_URL: bench.databaseUrl } : {}),
      BATON_SECRET: SECRET,
      BATON_PUBLIC_URL: 'https://t.example',
      // Never used: nothing is sent, but the server builds its providers.
      SMTP_URL: 'smtp://127.0.0.1:9',
    },
    bench.dataDir,
  );
  const signer = new TokenSigner(loadKeyring(config));
  const opens = ids.map((messageId) => `/t/o/${signer.sign({ kind: 'open', messageId })}`);
  const clicks = ids.map((messageId) => `/t/c/${signer.sign({ kind: 'click', messageId, link: 0 })}`);

  const bare = Fastify();
  bare.get('/bare', (_request, reply) => {
    void reply.header('cache-control', 'no-store').type('image/gif').send(PIXEL);
  });
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const app = await buildApp(database, config);
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  try {
    const bareUrl = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}/bare`;
    const phase = async (title: string, during?: () => { stop: () => Promise<number> }) => {
      process.stdout.write(`  ${title}\n`);
      const before = await countEvents(database);
      const load = during?.();
      // Measured on both sides of the tracking routes: on a shared machine one measure can catch a slow
      // moment, and the ratio is taken to the faster one.
      const bareBefore = await fire(bareUrl, undefined, values.load);
      const open = await fire(base, opens, values.load);
      const click = await fire(base, clicks, values.load);
      const bareAfter = await fire(bareUrl, undefined, values.load);
      const baseline = bareAfter.requests.average > bareBefore.requests.average ? bareAfter : bareBefore;
      const runs = await load?.stop();
      await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
      const written = (await countEvents(database)) - before;
      const answered = open['2xx'] + click['3xx'];
      process.stdout.write(
        line('bare Fastify route, before', bareBefore) +
          line('bare Fastify route, after', bareAfter) +
          line('open pixel (GET /t/o)', open, baseline) +
          line('click redirect (GET /t/c)', click, baseline) +
          `  events written ${written.toLocaleString('en-US')} for ${answered.toLocaleString('en-US')} answered (and those in flight at the end)` +
          (runs === undefined ? '' : `; ${runs} audience test runs during the phase`) +
          '\n',
      );
    };
    // A second at each target first, unmeasured: the first requests of a route pay for its compilation
    // (the server's and autocannon's), which would count against whichever is measured first.
    const warm = { ...values.load, duration: 1 };
    await fire(bareUrl, undefined, warm);
    await fire(base, opens, warm);
    await fire(base, clicks, warm);
    await new Promise((resolve) => setTimeout(resolve, SETTLE_MS));
    if (values.phase !== 'audience') {
      await phase('idle server (targets: ≥ 10,000 events/s, p99 < 20 ms, ≥ 0.5× the bare route)');
    }
    if (values.phase !== 'idle') {
      await phase(
        `while audiences of ${values.profiles.toLocaleString('en-US')} profiles are built (target: p99 < 50 ms)`,
        () => buildAudiences(base, database),
      );
    }
  } finally {
    await app.close();
    await bare.close();
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      profiles: { type: 'string', default: '1000000' },
      // Each distinct path is a request autocannon prepares before it starts: tens of thousands of them
      // cost its workers seconds, seen as the first requests' latency.
      messages: { type: 'string', default: '2000' },
      connections: { type: 'string', default: '50' },
      duration: { type: 'string', default: '5' },
      workers: { type: 'string', default: '2' },
      only: { type: 'string' },
      // One phase only, e.g. to profile it.
      phase: { type: 'string' },
    },
  });
  if (values.phase !== undefined && !PHASES.includes(values.phase as Phase)) {
    throw new Error(`--phase must be one of ${PHASES.join(', ')}`);
  }
  const load = {
    connections: Number(values.connections),
    duration: Number(values.duration),
    workers: Number(values.workers),
  };
  process.stdout.write(
    `bench/tracking: ${load.connections} connections from ${load.workers} autocannon workers, ${load.duration} s per measure\n`,
  );
  await onEachDatabase('tracking', values.only, (label, database, config) =>
    benchDatabase(label, database, config, {
      profiles: Number(values.profiles),
      messages: Number(values.messages),
      load,
      phase: values.phase as Phase | undefined,
    }),
  );
}
