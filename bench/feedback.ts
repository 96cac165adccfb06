import { createHmac } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { parseArgs } from 'node:util';
import Fastify, { type FastifyInstance } from 'fastify';
import { loadConfig } from '../src/config.ts';
import type { Database } from '../src/db/database.ts';
import { buildApp } from '../src/server/app.ts';
import { twilioSignatureValid } from '../src/tracking/feedback/sms-callbacks.ts';
import { insertSentMessages } from './sent-messages.ts';
import { onEachDatabase, type BenchConfig } from './databases.ts';

/**
 * bench/feedback: SMS delivery receipts per second through `POST /webhooks/twilio` — each signed as
 * Twilio signs, checked, and recorded (the event, its roll-ups, the ledger, one in ten a hard bounce that
 * quarantines the number) in its own transaction — with p50 / p99 latency, against a bare Fastify route
 * that parses and checks the same requests but records nothing (the lower bound), measured in the same
 * run. The ledger is then read back: every receipt must have been recorded once.
 */
const TOKEN = 'bench-twilio-token';
const PUBLIC = 'https://bench.example';

interface Callback {
  path: string;
  body: string;
  signature: string;
}

interface Measure {
  perSecond: number;
  p50: number;
  p99: number;
  failed: number;
}

function callbacks(ids: string[]): Callback[] {
  return ids.map((id, i) => {
    const fields: Record<string, string> =
      i % 10 === 0
        ? { MessageSid: `SM${i}`, MessageStatus: 'undelivered', ErrorCode: '30005', To: `+1555${i}` }
        : { MessageSid: `SM${i}`, MessageStatus: 'delivered', To: `+1555${i}` };
    const path = `/webhooks/twilio?message=${id}`;
    const data = Object.keys(fields)
      .sort()
      .reduce((text, name) => text + name + fields[name], PUBLIC + path);
    return {
      path,
      body: new URLSearchParams(fields).toString(),
      signature: createHmac('sha1', TOKEN).update(data).digest('base64'),
    };
  });
}

/** Posts every callback, `concurrency` at a time, and times each. */
async function drive(origin: string, all: Callback[], concurrency: number): Promise<Measure> {
  const latencies: number[] = [];
  let next = 0;
  let failed = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < all.length) {
        const callback = all[next++]!;
        const sent = performance.now();
        const response = await fetch(origin + callback.path, {
          method: 'POST',
          body: callback.body,
          headers: {
            'content-type': 'application/x-www-form-urlencoded',
            'x-twilio-signature': callback.signature,
          },
        });
        await response.arrayBuffer();
        if (response.status !== 200) failed++;
        latencies.push(performance.now() - sent);
      }
    }),
  );
  const seconds = (performance.now() - started) / 1000;
  latencies.sort((a, b) => a - b);
  const at = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(q * latencies.length))]!;
  return { perSecond: all.length / seconds, p50: at(0.5), p99: at(0.99), failed };
}

/** The lower bound: the same parsing and signature check, nothing recorded. */
async function bareRoute(): Promise<FastifyInstance> {
  const app = Fastify();
  app.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_r, body, done) =>
    done(null, Object.fromEntries(new URLSearchParams(body as string))),
  );
  app.post('/webhooks/twilio', async (request, reply) => {
    const valid = twilioSignatureValid(
      TOKEN,
      PUBLIC + request.url,
      request.body as Record<string, string>,
      request.headers['x-twilio-signature'] as string,
    );
    return valid ? { recorded: 1 } : reply.status(403).send();
  });
  await app.listen({ port: 0, host: '127.0.0.1' });
  return app;
}

const origin = (app: FastifyInstance) => `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;

const line = (label: string, m: Measure, bound?: Measure) =>
  `  ${label.padEnd(28)} ${Math.round(m.perSecond).toLocaleString('en-US').padStart(7)}/s, p50 ${m.p50.toFixed(1)} ms, p99 ${m.p99.toFixed(1)} ms` +
  (m.failed ? `, ${m.failed} failed` : '') +
  (bound ? `; ${(m.perSecond / bound.perSecond).toFixed(2)}× the bare route` : '') +
  '\n';

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      callbacks: { type: 'string', default: '20000' },
      concurrency: { type: 'string', default: '32' },
      only: { type: 'string' },
    },
  });
  const count = Number(values.callbacks);
  const concurrency = Number(values.concurrency);
  process.stdout.write(
    `bench/feedback: ${count.toLocaleString('en-US')} Twilio receipts, ${concurrency} at a time\n`,
  );
  await onEachDatabase(
    'feedback',
    values.only,
    async (label: string, database: Database, config: BenchConfig) => {
      const ids = await insertSentMessages(database, count, new Date().toISOString(), (n) => ({
        run_id: 'bench-run',
        activity: 'text',
        campaign_id: 'bench-feedback',
        channel: 'sms',
        address: `+1555${n}`,
        provider: 'twilio',
        provider_message_id: `SM${n}`,
      }));
      const all = callbacks(ids);
      const bare = await bareRoute();
      const boundMeasure = await drive(origin(bare), all, concurrency);
      await bare.close();
      const app = await buildApp(
        database,
        loadConfig(
          {
            BATON_DATA_DIR: config.dataDir,
            ...(config.databaseUrl ? { DATABASE_URL: config.databaseUrl, BATON_SECRET: 'b'.repeat(40) } : {}),
            BATON_PUBLIC_URL: PUBLIC,
            SMS_PROVIDER: 'twilio',
            SMS_ACCOUNT: 'AC-bench',
            SMS_TOKEN: TOKEN,
            SMS_FROM: '+15550000',
          },
          config.dataDir,
        ),
      );
      await app.listen({ port: 0, host: '127.0.0.1' });
      const measure = await drive(origin(app), all, concurrency);
      await app.close();
      const statuses = await database.db
        .selectFrom('messages')
        .select(['status', (eb) => eb.fn.countAll<number | string>().as('n')])
        .where('campaign_id', '=', 'bench-feedback')
        .groupBy('status')
        .execute();
      const events = await database.db
        .selectFrom('events')
        .select((eb) => eb.fn.countAll<number | string>().as('n'))
        .where('campaign_id', '=', 'bench-feedback')
        .executeTakeFirstOrThrow();
      const byStatus = Object.fromEntries(statuses.map((s) => [s.status, Number(s.n)]));
      const expected = { delivered: count - Math.ceil(count / 10), bounced: Math.ceil(count / 10) };
      const exact =
        byStatus.delivered === expected.delivered &&
        byStatus.bounced === expected.bounced &&
        Number(events.n) === count;
      process.stdout.write(
        `${label}:\n` +
          line('bare route (lower bound)', boundMeasure) +
          line('POST /webhooks/twilio', measure, boundMeasure) +
          `  ledger: ${JSON.stringify(byStatus)}, ${Number(events.n).toLocaleString('en-US')} events — ${exact ? 'every receipt recorded once' : 'MISMATCH'}\n`,
      );
      if (!exact) process.exitCode = 1;
    },
  );
}
