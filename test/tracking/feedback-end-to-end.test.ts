import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { EXAMPLE_CAMPAIGNS } from '../../src/campaigns/examples.ts';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { createProviders, type ChannelProviders } from '../../src/channels/providers/registry.ts';
import type { BatonConfig } from '../../src/config.ts';
import { loadDemo } from '../../src/data/demo/load-demo.ts';
import { campaignReport } from '../../src/reporting/report.ts';
import { loadKeyring } from '../../src/tracking/keys.ts';
import { TokenSigner } from '../../src/tracking/tokens.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { deliveryConfig, sendLive } from '../helpers/delivery.ts';
import { startApi } from '../helpers/http.ts';
import { arfEmail, dsnEmail } from '../helpers/mail-reports.ts';
import { startSmtpSink, type SinkMessage, type SmtpSink } from '../helpers/smtp-sink.ts';

/**
 * Issue 7 end to end, on both databases: the demo workspace's spring sale is sent to an SMTP sink; the
 * test reads the received messages and, message by message, follows their real pixels and links over
 * HTTP (as readers, and as a security scanner and Apple's privacy prefetcher), posts delivery receipts,
 * bounces and complaints. The report must then equal what the test counted of its own actions, and a
 * follow-up campaign — delivered, but no human click in the last 2 days — must target exactly the
 * readers the test expects.
 */
const CHROME =
  'Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const SCANNER = 'Mozilla/5.0 (compatible; Barracuda Link Protection)';
const APPLE_PREFETCH = 'Mozilla/5.0';
const SECRET = 's'.repeat(32);

/** What the test does to each received message, by its position: every behaviour at least a few times. */
const PLANS = [
  'hard-bounce',
  'soft-bounce',
  'open-and-click',
  'open',
  'scanner',
  'clicks-twice',
  'complaint',
  'prefetched',
  'old-click',
  'nothing',
] as const;
type Plan = (typeof PLANS)[number];

const FOLLOW_UP = {
  id: 'follow-up',
  name: 'Spring sale follow-up',
  activities: {
    // Delivered, but no human click in the last 2 days: events count human ones unless asked.
    who: {
      type: 'build-audience',
      dimension: 'profiles',
      rule: {
        and: [
          { filter: 'campaign-feedback', parameters: { behaviour: 'delivered', campaign: 'spring-sale' } },
          {
            notExists: 'events',
            where: {
              and: [
                { field: 'campaign', op: 'eq', value: 'spring-sale' },
                { field: 'type', op: 'eq', value: 'click' },
                { field: 'at', op: 'gte', value: { expr: 'DaysAgo(2)' } },
              ],
            },
          },
        ],
      },
    },
    mail: {
      type: 'email',
      input: 'who',
      subject: 'Still time, {{ profile.first_name }}',
      html: '<p>The spring sale ends on Sunday.</p>',
    },
  },
};

describeEachDatabase('tracking and feedback, end to end', (t) => {
  let sink: SmtpSink;
  let config: BatonConfig;
  let providers: ChannelProviders;
  beforeAll(async () => {
    sink = await startSmtpSink();
    await loadDemo(t.database, { profiles: 2000, seed: 'feedback-e2e' });
    const spring = parseYaml(readFileSync(new URL('spring-sale.yaml', EXAMPLE_CAMPAIGNS), 'utf8')) as {
      id: string;
    };
    await saveCampaign(t.database, spring);
    await saveCampaign(t.database, FOLLOW_UP);
    config = deliveryConfig(t, sink.url, { BATON_WEBHOOK_SECRET: SECRET });
    providers = createProviders(config, t.database);
  });
  afterAll(async () => {
    await providers.close();
    await sink.close();
  });

  const send = (campaign: string) =>
    sendLive(t, campaign, {
      providers,
      signer: new TokenSigner(loadKeyring(config)),
      publicUrl: config.publicUrl,
    });

  /** The ledger id of a received email: the local part of its Message-ID. */
  const ledgerIdOf = (message: SinkMessage) => /^<([^@>]+)@/.exec(message.messageId ?? '')![1]!;

  it('reports exactly what readers, scanners and providers did, and retargets the right people', async () => {
    const run = await send('spring-sale');
    const received = sink
      .received()
      .filter((m) => m.subject?.endsWith('your spring offer'))
      .sort((a, b) => ledgerIdOf(a).localeCompare(ledgerIdOf(b)));
    expect(received.length).toBeGreaterThanOrEqual(PLANS.length * 3);
    const recipients = new Map(
      (
        await t.database.db
          .selectFrom('messages')
          .select(['id', 'recipient'])
          .where('run_id', '=', run)
          .where('status', '=', 'sent')
          .execute()
      ).map((m) => [m.id, m.recipient]),
    );
    expect(new Set(received.map(ledgerIdOf))).toEqual(new Set(recipients.keys()));

    // No reader opens a message within a second of its arrival (that is a prefetch): wait as long.
    await sleep(1100);
    const api = await startApi(t, config);
    const counted = {
      delivered: 0,
      hard: 0,
      soft: 0,
      opens: 0,
      openers: new Set<string>(),
      clicks: 0,
      clickers: new Set<string>(),
      machineOpens: 0,
      machineClicks: 0,
      complaints: 0,
    };
    const plans = new Map<string, Plan>();
    try {
      const local = (url: string) => url.replace(config.publicUrl, '');
      const get = (url: string, userAgent: string) =>
        api.call('GET', local(url), { headers: { 'user-agent': userAgent } });
      const postReport = async (body: string) => {
        const answer = await api.call<{ recorded: number }>('POST', '/webhooks/smtp', {
          body,
          headers: { 'content-type': 'message/rfc822', authorization: `Bearer ${SECRET}` },
        });
        expect(answer.status).toBe(200);
        return answer.body.recorded;
      };
      for (const [index, message] of received.entries()) {
        const id = ledgerIdOf(message);
        const plan = PLANS[index % PLANS.length]!;
        plans.set(id, plan);
        const address = message.envelope.to[0]!;
        const pixel = /<img src="([^"]+\/t\/o\/[^"]+)"/.exec(message.html!)![1]!;
        const links = [...message.html!.matchAll(/href="([^"]+\/t\/c\/[^"]+)"/g)].map((m) => m[1]!);
        expect(links).toHaveLength(2);
        const open = async (userAgent: string) => {
          expect((await get(pixel, userAgent)).status).toBe(200);
          if (userAgent === CHROME) {
            counted.opens++;
            counted.openers.add(id);
          } else counted.machineOpens++;
        };
        const click = async (link: number, userAgent: string) => {
          const answer = await fetch(`${api.app.listeningOrigin}${local(links[link]!)}`, {
            redirect: 'manual',
            headers: { 'user-agent': userAgent },
          });
          expect(answer.status).toBe(302);
          if (userAgent === CHROME) {
            counted.clicks++;
            counted.clickers.add(id);
          } else counted.machineClicks++;
        };
        if (plan === 'hard-bounce' || plan === 'soft-bounce') {
          const hard = plan === 'hard-bounce';
          const report = dsnEmail({
            originalMessageId: message.messageId,
            recipient: address,
            action: 'failed',
            status: hard ? '5.1.1' : '4.4.7',
            diagnostic: hard ? '550 5.1.1 user unknown' : '421 4.4.7 message expired',
          });
          expect(await postReport(report)).toBe(1);
          // The mailbox is read twice: the second post changes nothing.
          expect(await postReport(report)).toBe(0);
          counted[hard ? 'hard' : 'soft']++;
          continue;
        }
        expect(
          await postReport(
            dsnEmail({
              envelopeId: id,
              recipient: address,
              action: 'delivered',
              status: '2.0.0',
              returned: 'headers',
            }),
          ),
        ).toBe(1);
        counted.delivered++;
        if (plan === 'open-and-click') {
          await open(CHROME);
          await click(0, CHROME);
        } else if (plan === 'open') {
          await open(CHROME);
          await open(CHROME);
        } else if (plan === 'scanner') {
          await click(0, SCANNER);
          await click(1, SCANNER);
        } else if (plan === 'clicks-twice') {
          await open(CHROME);
          await click(1, CHROME);
          await click(1, CHROME);
        } else if (plan === 'complaint') {
          await open(CHROME);
          expect(
            await postReport(
              arfEmail({ originalMessageId: message.messageId, feedbackType: 'abuse', recipient: address }),
            ),
          ).toBe(1);
          counted.complaints++;
        } else if (plan === 'prefetched') {
          await open(APPLE_PREFETCH);
        } else if (plan === 'old-click') {
          await click(0, CHROME);
        }
      }
    } finally {
      // Closing writes the buffered events, held clicks included.
      await api.close();
    }

    const report = await campaignReport(t.database, 'spring-sale');
    const mail = report.activities.find((a) => a.activity === 'mail-gold')!;
    expect(mail).toMatchObject({
      sent: received.length,
      delivered: counted.delivered,
      bounced: counted.hard + counted.soft,
      hardBounces: counted.hard,
      softBounces: counted.soft,
      bounceReasons: { '550 5.1.1 user unknown': counted.hard, '421 4.4.7 message expired': counted.soft },
      opens: counted.opens,
      uniqueOpens: counted.openers.size,
      clicks: counted.clicks,
      uniqueClicks: counted.clickers.size,
      complaints: counted.complaints,
      unsubscribes: 0,
      rateBase: 'delivered',
      machine: { opens: counted.machineOpens, clicks: counted.machineClicks, complaints: 0 },
    });
    expect(mail.targeted).toBe(received.length + Object.values(mail.excluded).reduce((a, b) => a + b, 0));
    expect(mail.clickThroughRate).toBeCloseTo(counted.clickers.size / counted.delivered, 10);
    expect(report.totals.complaints).toBe(counted.complaints);

    // One reader clicked three days ago: outside the follow-up's 2 days.
    const oldClickers = [...plans].filter(([, plan]) => plan === 'old-click').map(([id]) => id);
    await t.database.db
      .updateTable('events')
      .set({ at: new Date(Date.now() - 3 * 86_400_000).toISOString() })
      .where('message_id', 'in', oldClickers)
      .execute();

    const followUp = await send('follow-up');
    const expected = [...plans]
      .filter(([, plan]) =>
        ['open', 'scanner', 'complaint', 'prefetched', 'old-click', 'nothing'].includes(plan),
      )
      .map(([id, plan]) => [recipients.get(id)!, plan === 'complaint' ? 'excluded' : 'sent'] as const)
      .sort();
    const targeted = await t.database.db
      .selectFrom('messages')
      .select(['recipient', 'status', 'reason'])
      .where('run_id', '=', followUp)
      .execute();
    expect(targeted.map((m) => [m.recipient, m.status] as const).sort()).toEqual(expected);
    // The complainer is targeted, then kept out by the quarantine the complaint put the address in.
    expect(targeted.filter((m) => m.status === 'excluded').map((m) => m.reason)).toEqual(
      expected.filter(([, status]) => status === 'excluded').map(() => 'quarantined'),
    );
  });
});
