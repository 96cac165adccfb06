import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import Fastify, { type FastifyInstance } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { campaignReport } from '../../src/reporting/report.ts';
import { createProviders, type ChannelProviders } from '../../src/channels/providers/registry.ts';
import { type BatonConfig } from '../../src/config.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import type { EventWriter } from '../../src/tracking/event-writer.ts';
import { requestVerdict } from '../../src/tracking/machine-detection.ts';
import { trackingRoutes } from '../../src/tracking/routes.ts';
import { TokenSigner, type Keyring, type TokenPayload } from '../../src/tracking/tokens.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/databases.ts';
import { loadDataset } from '../helpers/expressions.ts';
import { startApi } from '../helpers/http.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { deliveryConfig, sendLive } from '../helpers/delivery.ts';
import { insertLedgerRow } from '../helpers/ledger-rows.ts';

/**
 * The tracking endpoints over real HTTP: the pixel, the click redirect and the unsubscribe page, what
 * they record (and refuse to record), forged and tampered tokens, open-redirect attempts, machine
 * flags, and — end to end — a live email whose received pixel, links and List-Unsubscribe URL are
 * followed, after which the next send excludes the address as `unsubscribed`.
 */
const CURRENT = 'c'.repeat(40);
const RETIRED = 'r'.repeat(40);
const EXPIRED = 'e'.repeat(40);
const DAY = 86_400_000;
const KEYRING: Keyring = {
  current: { id: 2, secret: CURRENT },
  previous: [
    { id: 1, secret: RETIRED, retiredAt: new Date(Date.now() - DAY) },
    { id: 0, secret: EXPIRED, retiredAt: new Date(Date.now() - 200 * DAY) },
  ],
};
const signer = new TokenSigner(KEYRING);
const CHROME =
  'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36';
const BURST_MS = 300;
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

const SCHEMA = parseSchemaText(`
tables:
  people:
    primaryKey: id
    columns: { id: integer, name: string, email: string, ok: boolean }
    targeting:
      email: { address: email, optIn: ok }
`);

function path(payload: TokenPayload, tokenSigner = signer): string {
  const prefix = { open: '/t/o/', click: '/t/c/', unsubscribe: '/u/' }[payload.kind];
  return prefix + tokenSigner.sign(payload);
}

function flipped(token: string, byte: number): string {
  const bytes = Buffer.from(token, 'base64url');
  bytes[byte]! ^= 0x01;
  return bytes.toString('base64url');
}

function insertMessage(
  t: TestDatabase,
  fields: { links?: string[] | null; sentAgoMs?: number; address?: string; recipient?: string } = {},
): Promise<string> {
  const now = Date.now();
  return insertLedgerRow(t, {
    recipient: fields.recipient ?? '7',
    address: fields.address ?? 'ann@example.test',
    links: fields.links === null ? null : JSON.stringify(fields.links ?? ['https://shop.example/only']),
    queued_at: new Date(now - 120_000).toISOString(),
    sent_at: new Date(now - (fields.sentAgoMs ?? 60_000)).toISOString(),
  });
}

async function eventsOf(t: TestDatabase, messageId: string) {
  const rows = await t.database.db
    .selectFrom('events')
    .selectAll()
    .where('message_id', '=', messageId)
    .orderBy('at')
    .orderBy('link')
    .execute();
  return rows.map((row) => ({ ...row, human: Boolean(row.human) }));
}

describe('machine detection from the request', () => {
  it('flags scanners, prefetchers, tools and HEAD requests, and leaves browsers and image proxies human', () => {
    const get = (userAgent: string | undefined, kind: 'open' | 'click' = 'click') =>
      requestVerdict(kind, { userAgent, method: 'GET' });
    expect(get(CHROME)).toBeNull();
    expect(
      get(
        'Mozilla/5.0 (Windows NT 5.1; rv:11.0) Gecko Firefox/11.0 (via ggpht.com GoogleImageProxy)',
        'open',
      ),
    ).toBeNull();
    expect(
      get('YahooMailProxy; https://help.yahoo.com/kb/yahoo-mail-proxy-SLN28749.html', 'open'),
    ).toBeNull();
    expect(
      get('Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)', 'open'),
    ).toBeNull();
    expect(
      get('Mozilla/5.0 (Linux; Android 12; CUBOT P40) AppleWebKit/537.36 Chrome/118 Mobile Safari/537.36'),
    ).toBeNull();
    expect(get('Microsoft Office/16.0 (Windows NT 10.0; Microsoft Outlook 16.0.17328; Pro)')).toMatch(
      /Safe Links/,
    );
    expect(get('Mozilla/5.0', 'open')).toMatch(/Apple Mail Privacy Protection/);
    expect(get(undefined)).toBe('no user agent');
    expect(get('  ')).toBe('no user agent');
    expect(get('Mozilla/5.0 (compatible; Barracuda Sentinel)')).toBe('email security scanner');
    expect(get('Mozilla/5.0 (X11; Linux x86_64) HeadlessChrome/126.0.0.0 Safari/537.36')).toBe(
      'headless browser',
    );
    expect(get('curl/8.5.0')).toMatch(/HTTP library/);
    expect(get('Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)')).toBe('crawler');
    expect(requestVerdict('open', { userAgent: CHROME, method: 'HEAD' })).toMatch(/HEAD/);
  });
});

describeEachDatabase('tracking endpoints', (t) => {
  let app: FastifyInstance;
  let writer: EventWriter;
  let base: string;
  const request = (url: string, init: RequestInit = {}) =>
    fetch(`${base}${url}`, {
      redirect: 'manual',
      ...init,
      headers: { 'user-agent': CHROME, ...(init.headers as Record<string, string> | undefined) },
    });
  /** Past the burst window, so held clicks are due, then everything due written. */
  const settle = async () => {
    await sleep(BURST_MS + 50);
    await writer.flush();
  };

  beforeAll(async () => {
    app = Fastify();
    writer = trackingRoutes(app, t.database, { signer, burstMs: BURST_MS });
    await app.listen({ port: 0, host: '127.0.0.1' });
    base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  });
  afterAll(() => app.close());

  it('answers the pixel with a GIF no cache keeps, and records the open with its message', async () => {
    const id = await insertMessage(t);
    const answer = await request(path({ kind: 'open', messageId: id }));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/gif');
    expect(answer.headers.get('cache-control')).toBe('no-store');
    expect(Buffer.from(await answer.arrayBuffer())).toEqual(PIXEL);
    await writer.flush();
    expect(await eventsOf(t, id)).toEqual([
      expect.objectContaining({
        message_id: id,
        recipient: '7',
        campaign_id: 'spring',
        activity: 'mail',
        run_id: 'run-1',
        channel: 'email',
        type: 'open',
        link: null,
        url: null,
        human: true,
        machine_reason: null,
        user_agent: CHROME,
      }),
    ]);
  });

  it('redirects a click to the link stored for its message and index, whatever the request adds', async () => {
    // Three links, two clicked: not every link at once, so the clicks stay human.
    const links = [
      'https://shop.example/sale?id=1&utm_source=mail',
      'https://shop.example/help',
      'https://shop.example/x',
    ];
    const id = await insertMessage(t, { links });
    const click = path({ kind: 'click', messageId: id, link: 1 });
    for (const suffix of [
      '',
      '?url=https://evil.example',
      '?next=//evil.example&redirect=https%3A%2F%2Fevil.example',
    ]) {
      const answer = await request(click + suffix);
      expect(answer.status).toBe(302);
      expect(answer.headers.get('location')).toBe(links[1]);
      expect(answer.headers.get('cache-control')).toBe('no-store');
    }
    expect((await request(path({ kind: 'click', messageId: id, link: 0 }))).headers.get('location')).toBe(
      links[0],
    );
    // Open-redirect attempts: a destination in the path, a link index beyond the message's links, a
    // message the ledger does not have, another kind of token, a stored link that is not http(s).
    const refused = [
      `${click}/https://evil.example`,
      `/t/c/${encodeURIComponent('https://evil.example')}`,
      '/t/c/',
      path({ kind: 'click', messageId: id, link: 3 }),
      path({ kind: 'click', messageId: id, link: 1_000_000 }),
      path({ kind: 'click', messageId: randomUUID(), link: 0 }),
      `/t/c/${signer.sign({ kind: 'open', messageId: id })}`,
      `/t/c/${signer.sign({ kind: 'unsubscribe', messageId: id })}`,
      `/t/o/${signer.sign({ kind: 'click', messageId: id, link: 0 })}`,
      `/u/${signer.sign({ kind: 'click', messageId: id, link: 0 })}`,
    ];
    const scripted = await insertMessage(t, { links: ['javascript:alert(1)', '//evil.example/x'] });
    refused.push(
      path({ kind: 'click', messageId: scripted, link: 0 }),
      path({ kind: 'click', messageId: scripted, link: 1 }),
    );
    const noLinks = await insertMessage(t, { links: null });
    refused.push(path({ kind: 'click', messageId: noLinks, link: 0 }));
    for (const url of refused) {
      const answer = await request(url);
      expect([url, answer.status]).toEqual([url, 404]);
      expect(answer.headers.get('location')).toBeNull();
    }
    await settle();
    // Two requests may share a millisecond: compared in link order.
    const events = await eventsOf(t, id);
    expect(events.map((e) => [e.type, e.link, e.url, e.human]).sort()).toEqual([
      ['click', 0, links[0], true],
      ['click', 1, links[1], true],
      ['click', 1, links[1], true],
      ['click', 1, links[1], true],
    ]);
    expect(await eventsOf(t, scripted)).toEqual([]);
    expect(await eventsOf(t, noLinks)).toEqual([]);
  });

  it('refuses every token with a byte flipped, cut short, or signed by another or an expired key, and records nothing', async () => {
    const id = await insertMessage(t, { links: ['https://shop.example/a'] });
    const tokens = [
      ['/t/o/', signer.sign({ kind: 'open', messageId: id })],
      ['/t/c/', signer.sign({ kind: 'click', messageId: id, link: 0 })],
      ['/u/', signer.sign({ kind: 'unsubscribe', messageId: id })],
    ] as const;
    for (const [prefix, token] of tokens) {
      const length = Buffer.from(token, 'base64url').length;
      for (let byte = 0; byte < length; byte++) {
        const answer = await request(prefix + flipped(token, byte));
        expect([prefix, byte, answer.status]).toEqual([prefix, byte, 404]);
        expect(await answer.text()).toBe('Not found\n');
      }
      for (let cut = 1; cut < token.length; cut++) {
        expect([prefix, cut, (await request(prefix + token.slice(0, cut))).status]).toEqual([
          prefix,
          cut,
          404,
        ]);
      }
    }
    const forgers = [
      // The current key id with a secret that is not ours: a re-signed token.
      new TokenSigner({ current: { id: 2, secret: 'f'.repeat(40) }, previous: [] }),
      // A key id the server does not know.
      new TokenSigner({ current: { id: 9, secret: CURRENT }, previous: [] }),
      // A retired key past its grace period.
      new TokenSigner({ current: { id: 0, secret: EXPIRED }, previous: [] }),
    ];
    for (const forger of forgers) {
      expect((await request(path({ kind: 'open', messageId: id }, forger))).status).toBe(404);
      expect((await request(path({ kind: 'click', messageId: id, link: 0 }, forger))).status).toBe(404);
      expect(
        (await request(path({ kind: 'unsubscribe', messageId: id }, forger), { method: 'POST' })).status,
      ).toBe(404);
    }
    // Longer than the router takes for a parameter: Fastify answers before the route runs.
    expect((await request(`/t/o/${'A'.repeat(200)}`)).status).toBe(414);
    await settle();
    expect(await eventsOf(t, id)).toEqual([]);
    expect(
      await t.database.db.selectFrom('unsubscriptions').selectAll().where('message_id', '=', id).execute(),
    ).toEqual([]);

    // A key retired yesterday still verifies: links sent before a rotation keep working.
    const retired = new TokenSigner({ current: { id: 1, secret: RETIRED }, previous: [] });
    expect((await request(path({ kind: 'click', messageId: id, link: 0 }, retired))).status).toBe(302);
    await settle();
    expect((await eventsOf(t, id)).map((e) => e.type)).toEqual(['click']);
  });

  it('answers the pixel of a message the ledger does not have (a proof) and records nothing', async () => {
    const proof = randomUUID();
    const answer = await request(path({ kind: 'open', messageId: proof }));
    expect(answer.status).toBe(200);
    expect(answer.headers.get('content-type')).toBe('image/gif');
    expect((await request(path({ kind: 'unsubscribe', messageId: proof }))).status).toBe(404);
    await writer.flush();
    expect(await eventsOf(t, proof)).toEqual([]);
  });

  it('flags machine events with their reason', async () => {
    // Opened within a second of being sent: fetched on arrival.
    const early = await insertMessage(t, { sentAgoMs: 200 });
    await request(path({ kind: 'open', messageId: early }));
    // Apple's privacy proxy, a HEAD request, a security scanner.
    const later = await insertMessage(t, { links: ['https://shop.example/one'] });
    await request(path({ kind: 'open', messageId: later }), { headers: { 'user-agent': 'Mozilla/5.0' } });
    expect((await request(path({ kind: 'open', messageId: later }), { method: 'HEAD' })).status).toBe(200);
    await request(path({ kind: 'click', messageId: later, link: 0 }), {
      headers: { 'user-agent': 'Mozilla/5.0 (compatible; Barracuda Sentinel (EE))' },
    });
    // Every link of a three-link message clicked at once by a browser-like agent: a scanner. Written
    // without waiting for the window, since the burst is already complete.
    const scanned = await insertMessage(t, {
      links: ['https://a.example/', 'https://b.example/', 'https://c.example/'],
    });
    await Promise.all([0, 1, 2].map((link) => request(path({ kind: 'click', messageId: scanned, link }))));
    // Two of three links clicked: a reader.
    const read = await insertMessage(t, {
      links: ['https://a.example/', 'https://b.example/', 'https://c.example/'],
    });
    await request(path({ kind: 'click', messageId: read, link: 0 }));
    await request(path({ kind: 'click', messageId: read, link: 2 }));
    await writer.flush();
    const verdicts = async (id: string) =>
      (await eventsOf(t, id)).map((e) => [e.type, e.link, e.human, e.machine_reason]);
    expect(await verdicts(early)).toEqual([
      ['open', null, false, 'opened within 1 s of delivery (fetched on arrival)'],
    ]);
    // Sent together, they may arrive in any order.
    expect((await verdicts(scanned)).sort()).toEqual(
      [0, 1, 2].map((link) => [
        'click',
        link,
        false,
        'every link of the message clicked within 0.3 s (a link scanner)',
      ]),
    );
    // The reader's clicks wait out the window before they are written as human.
    expect(await verdicts(read)).toEqual([]);
    await settle();
    expect(await verdicts(read)).toEqual([
      ['click', 0, true, null],
      ['click', 2, true, null],
    ]);
    expect((await verdicts(later)).sort()).toEqual(
      [
        ['click', 0, false, 'email security scanner'],
        ['open', null, false, 'Apple Mail Privacy Protection prefetch (bare "Mozilla/5.0" user agent)'],
        ['open', null, false, 'HEAD request (a link check)'],
      ].sort(),
    );
  });

  it('records replayed requests as events of their own; unique counts take distinct messages', async () => {
    const id = await insertMessage(t, { links: ['https://shop.example/a'] });
    for (let i = 0; i < 3; i++) await request(path({ kind: 'open', messageId: id }));
    for (let i = 0; i < 2; i++) await request(path({ kind: 'click', messageId: id, link: 0 }));
    await writer.flush();
    const events = await eventsOf(t, id);
    expect(events.filter((e) => e.type === 'open')).toHaveLength(3);
    expect(events.filter((e) => e.type === 'click')).toHaveLength(2);
    expect(new Set(events.map((e) => e.id)).size).toBe(5);
    const unique = await t.database.db
      .selectFrom('events')
      .select((eb) => eb.fn.count<number>('message_id').distinct().as('n'))
      .where('message_id', '=', id)
      .where('type', '=', 'open')
      .executeTakeFirstOrThrow();
    expect(Number(unique.n)).toBe(1);
  });

  it('shows an unsubscribe page, and a POST opts the address out of the channel once', async () => {
    const id = await insertMessage(t, { address: '  O.Brien+<b>@Example.TEST ' });
    const url = path({ kind: 'unsubscribe', messageId: id });
    const shown = await request(url);
    expect(shown.status).toBe(200);
    expect(shown.headers.get('content-type')).toBe('text/html; charset=utf-8');
    expect(shown.headers.get('content-security-policy')).toContain("default-src 'none'");
    const html = await shown.text();
    expect(html).toContain('<form method="post">');
    expect(html).toContain('O.Brien+&lt;b&gt;@Example.TEST');
    expect(html).not.toContain('<b>@');
    // Showing the page changes nothing (link scanners fetch it).
    expect(
      await t.database.db.selectFrom('unsubscriptions').selectAll().where('message_id', '=', id).execute(),
    ).toEqual([]);
    for (let i = 0; i < 2; i++) {
      const done = await request(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(done.status).toBe(200);
      expect(await done.text()).toContain('You are unsubscribed');
    }
    const rows = await t.database.db
      .selectFrom('unsubscriptions')
      .select(['channel', 'address', 'message_id'])
      .where('address', '=', 'o.brien+<b>@example.test')
      .execute();
    expect(rows).toEqual([{ channel: 'email', address: 'o.brien+<b>@example.test', message_id: id }]);
    await writer.flush();
    expect((await eventsOf(t, id)).map((e) => [e.type, e.human])).toEqual([
      ['unsubscribe', true],
      ['unsubscribe', true],
    ]);
  });
});

describeEachDatabase('tracking a live email end to end', (t) => {
  let sink: SmtpSink;
  let providers: ChannelProviders;
  let config: BatonConfig;

  beforeAll(async () => {
    sink = await startSmtpSink();
    await loadDataset(t, SCHEMA, {
      people: [
        { id: 1, name: 'Ann', email: 'Ann@Example.test', ok: true },
        { id: 2, name: 'Bob', email: 'bob@example.test', ok: true },
      ],
    });
    const content = {
      from: 'shop@example.test',
      subject: 'Hello {{ profile.name }}',
      html: '<html><body><p>Hi {{ profile.name }}, see <a href="https://shop.example/sale?id={{ profile.id }}">the sale</a> or <a href="https://shop.example/help">get help</a>.</p></body></html>',
    };
    for (const id of ['hello', 'hello-again']) {
      await saveCampaign(t.database, {
        id,
        name: id,
        activities: {
          everyone: { type: 'build-audience', dimension: 'people' },
          mail: { type: 'email', input: 'everyone', ...content },
        },
      });
    }
    config = deliveryConfig(t, sink.url, {
      BATON_SECRET: `2:${CURRENT}`,
      BATON_SECRET_PREVIOUS: `1:${RETIRED}:${new Date(Date.now() - DAY).toISOString()}`,
    });
    providers = createProviders(config, t.database);
  });
  afterAll(async () => {
    await providers.close();
    await sink.close();
  });

  const send = (campaign: string) =>
    sendLive(t, campaign, { providers, signer: signer, publicUrl: config.publicUrl });

  it('follows the received pixel, link and List-Unsubscribe URL; the next send excludes the address', async () => {
    const run = await send('hello');
    const ann = sink.received().find((m) => m.envelope.to[0] === 'ann@example.test')!;
    const message = await t.database.db
      .selectFrom('messages')
      .select(['id', 'links'])
      .where('run_id', '=', run)
      .where('recipient', '=', '1')
      .executeTakeFirstOrThrow();
    // Read a minute after it arrived, as a person would.
    await t.database.db
      .updateTable('messages')
      .set({ sent_at: new Date(Date.now() - 60_000).toISOString() })
      .where('id', '=', message.id)
      .execute();
    const api = await startApi(t, config);
    const local = (url: string) => url.replace('https://t.example', '');
    const pixel = /<img src="(https:\/\/t\.example\/t\/o\/[A-Za-z0-9_-]+)"/.exec(ann.html!)![1]!;
    const clicks = [...ann.html!.matchAll(/href="(https:\/\/t\.example\/t\/c\/[A-Za-z0-9_-]+)"/g)].map(
      (m) => m[1]!,
    );
    const unsubscribe = /List-Unsubscribe:\s+<(https:\/\/t\.example\/u\/[A-Za-z0-9_-]+)>/.exec(ann.raw)![1]!;
    expect(clicks).toHaveLength(2);
    const headers = { 'user-agent': CHROME };
    try {
      const opened = await api.call('GET', local(pixel), { headers });
      expect(opened.status).toBe(200);
      expect(opened.headers.get('content-type')).toBe('image/gif');
      const clicked = await fetch(`${api.app.listeningOrigin}${local(clicks[1]!)}`, {
        redirect: 'manual',
        headers,
      });
      expect(clicked.status).toBe(302);
      expect(clicked.headers.get('location')).toBe('https://shop.example/help');
      expect(JSON.parse(message.links!)).toEqual([
        'https://shop.example/sale?id=1',
        'https://shop.example/help',
      ]);

      const page = await api.call('GET', local(unsubscribe), { headers });
      expect(page.status).toBe(200);
      expect(page.text).toContain('Ann@Example.test');
      // RFC 8058 one-click, as a mailbox provider posts it; then the page's own form, as multipart.
      const oneClick = await api.call('POST', local(unsubscribe), {
        headers: { ...headers, 'content-type': 'application/x-www-form-urlencoded' },
        body: 'List-Unsubscribe=One-Click',
      });
      expect(oneClick.status).toBe(200);
      const form = new FormData();
      form.set('List-Unsubscribe', 'One-Click');
      expect((await api.call('POST', local(unsubscribe), { headers, body: form })).status).toBe(200);
    } finally {
      // Closing writes what is buffered, the held click included.
      await api.close();
    }
    const events = await eventsOf(t, message.id);
    // Events of the same millisecond come in any order: compared sorted.
    expect(
      events.map((e) => [e.type, e.link, e.url, e.human, e.recipient, e.campaign_id, e.run_id]).sort(),
    ).toEqual([
      ['click', 1, 'https://shop.example/help', true, '1', 'hello', run],
      ['open', null, null, true, '1', 'hello', run],
      ['unsubscribe', null, null, true, '1', 'hello', run],
      ['unsubscribe', null, null, true, '1', 'hello', run],
    ]);
    expect(
      await t.database.db.selectFrom('unsubscriptions').select(['channel', 'address']).execute(),
    ).toEqual([{ channel: 'email', address: 'ann@example.test' }]);
    // The report, read from the roll-ups the writer keeps with the events, counts what was done here.
    const report = await campaignReport(t.database, 'hello');
    expect(report.activities[0]).toMatchObject({
      sent: 2,
      opens: 1,
      uniqueOpens: 1,
      clicks: 1,
      uniqueClicks: 1,
      unsubscribes: 1,
    });

    const next = await send('hello-again');
    const outcome = await t.database.db
      .selectFrom('messages')
      .select(['recipient', 'status', 'reason'])
      .where('run_id', '=', next)
      .orderBy('recipient')
      .execute();
    expect(outcome).toEqual([
      { recipient: '1', status: 'excluded', reason: 'unsubscribed' },
      { recipient: '2', status: 'sent', reason: null },
    ]);
  });
});
