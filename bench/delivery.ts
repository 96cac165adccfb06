import { parseArgs } from 'node:util';
import nodemailer from 'nodemailer';
import { saveCampaign } from '../src/campaigns/store.ts';
import { createProviders } from '../src/channels/providers/registry.ts';
import { loadConfig } from '../src/config.ts';
import { loadDemo } from '../src/data/demo/load-demo.ts';
import type { Database } from '../src/db/database.ts';
import { LedgerComposer } from '../src/delivery/composer.ts';
import { ledgerCounts } from '../src/delivery/queue.ts';
import { Sender } from '../src/delivery/sender.ts';
import { Engine } from '../src/engine/engine.ts';
import { loadKeyring } from '../src/tracking/keys.ts';
import { TokenSigner } from '../src/tracking/tokens.ts';
import { onEachDatabase, type BenchConfig } from './databases.ts';
import { startSink } from './smtp-sink.ts';

/**
 * bench/delivery: a live email activity to the demo's profiles — Liquid personalization, MJML compiled
 * HTML, tracking on — sent by the delivery engine to a local SMTP sink in another process: messages per
 * second and peak RSS, against a lower bound measured in the same run: a plain nodemailer pooled loop
 * sending the same number of pre-rendered messages to the same sink with the same pool.
 */
const AS_OF = new Date('2026-11-01T00:00:00Z');
const MJML = `<mjml><mj-body>
  <mj-section><mj-column>
    <mj-text font-size="20px">Hello {{ profile.first_name }},</mj-text>
    <mj-text>Your store in {{ profile.country }} has new arrivals. {% if profile.loyalty == "gold" %}As a gold member you get 20% off.{% endif %}</mj-text>
    <mj-button href="https://shop.example/new?c={{ profile.id }}">See the new arrivals</mj-button>
    <mj-text><a href="https://shop.example/account">Your account</a></mj-text>
  </mj-column></mj-section>
</mj-body></mjml>`;

let peakRss = 0;
const sampler = setInterval(() => (peakRss = Math.max(peakRss, process.memoryUsage().rss)), 100);
sampler.unref();

async function benchDatabase(
  label: string,
  database: Database,
  config: BenchConfig,
  values: { profiles: number; connections: string },
) {
  const { profiles } = values;
  const loaded = await loadDemo(database, { profiles, asOf: AS_OF, force: true });
  const sink = await startSink();
  const settings = loadConfig(
    {
      BATON_DATA_DIR: config.dataDir,
      ...(config.databaseUrl ? { DATABASE_URL: config.databaseUrl } : {}),
      SMTP_URL: sink.url,
      BATON_SECRET: 'b'.repeat(40),
      BATON_PUBLIC_URL: 'https://t.example',
      SMTP_MAX_CONNECTIONS: values.connections,
    },
    config.dataDir,
  );
  try {
    await saveCampaign(database, {
      id: 'bench-mail',
      name: 'Bench mail',
      activities: {
        everyone: { type: 'build-audience', dimension: 'profiles' },
        mail: {
          type: 'email',
          input: 'everyone',
          category: 'transactional',
          from: 'shop@example.test',
          subject: '{{ profile.first_name }}, new arrivals',
          mjml: MJML,
        },
      },
    });
    const engine = new Engine(database);
    const queuedAt = performance.now();
    const { run, finished } = await engine.start('bench-mail', { mode: 'live', now: AS_OF.getTime() });
    await finished;
    await engine.close();
    const queueMs = performance.now() - queuedAt;
    const counts = await ledgerCounts(database, run, 'mail');
    const providers = createProviders(settings, database);
    const sender = new Sender(database, {
      owner: 'bench',
      composer: new LedgerComposer(database, {
        providers,
        signer: new TokenSigner(loadKeyring(settings)),
        publicUrl: settings.publicUrl,
      }),
      batchSize: 500,
      concurrency: 50,
    });
    peakRss = process.memoryUsage().rss;
    const before = await sink.count();
    const start = performance.now();
    await sender.drain();
    const sendMs = performance.now() - start;
    const sent = (await sink.count()) - before;
    await providers.close();
    const rss = peakRss;

    // The lower bound: the same number of pre-rendered messages through a bare nodemailer pool.
    const transport = nodemailer.createTransport({
      url: sink.url,
      pool: true,
      maxConnections: settings.providers.smtpMaxConnections,
      maxMessages: settings.providers.smtpMaxMessages,
    } as never);
    const message = {
      from: 'shop@example.test',
      subject: 'Ann, new arrivals',
      html: '<p>'.padEnd(6_000, 'x'),
      text: 'x'.repeat(600),
    };
    const boundStart = performance.now();
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < sent) {
          const i = next++;
          await transport.sendMail({ ...message, to: `p${i}@example.test` });
        }
      }),
    );
    const boundMs = performance.now() - boundStart;
    transport.close();
    const rate = (sent / sendMs) * 1000;
    const bound = (sent / boundMs) * 1000;
    process.stdout.write(
      `${label}: ${loaded.rows.profiles!.toLocaleString('en-US')} profiles; queued ${counts.queued.toLocaleString('en-US')} messages in ${(queueMs / 1000).toFixed(2)} s\n` +
        `  delivery engine: ${sent.toLocaleString('en-US')} sent in ${(sendMs / 1000).toFixed(2)} s = ${rate.toFixed(0)} messages/s, peak RSS ${(rss / 2 ** 20).toFixed(0)} MiB\n` +
        `  bare nodemailer pool, pre-rendered: ${bound.toFixed(0)} messages/s; ratio ${(rate / bound).toFixed(2)}× (target ≥ 0.7× and ≥ 5,000 messages/s)\n`,
    );
  } finally {
    sink.stop();
  }
}

export async function run(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      profiles: { type: 'string', default: '100000' },
      connections: { type: 'string', default: '40' },
      only: { type: 'string' },
    },
  });
  const profiles = Number(values.profiles);
  process.stdout.write(
    `bench/delivery: ${profiles.toLocaleString('en-US')} personalized emails (MJML, tracking on)\n`,
  );
  await onEachDatabase('delivery', values.only, (label, database, config) =>
    benchDatabase(label, database, config, { profiles, connections: values.connections }),
  );
}
