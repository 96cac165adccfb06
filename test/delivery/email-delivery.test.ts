import { afterAll, beforeAll, expect, it } from 'vitest';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { type ChannelProviders } from '../../src/channels/providers/registry.ts';
import { LedgerComposer } from '../../src/delivery/composer.ts';
import { listPreviews } from '../../src/delivery/previews.ts';
import { ledgerCounts } from '../../src/delivery/queue.ts';
import { Sender } from '../../src/delivery/sender.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { recordFeedback } from '../../src/tracking/feedback/recorder.ts';
import { Engine } from '../../src/engine/engine.ts';
import { runLogs, runStatus, transitionRows } from '../../src/engine/run-inspection.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { TokenSigner } from '../../src/tracking/tokens.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { loadDataset } from '../helpers/expressions.ts';
import { startApi } from '../helpers/http.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { deliveryConfig, deliveryServices } from '../helpers/delivery.ts';

/**
 * A live email send to a real SMTP server that fails on purpose, message by message: transient refusals
 * and a dropped connection are retried to success, permanent ones end bounced (a hard bounce quarantines
 * the address) or failed, every accepted message arrives exactly once with its deterministic Message-ID
 * and tracked link, and the channel activity goes on only when every message is final.
 */
const SCHEMA = parseSchemaText(`
tables:
  people:
    primaryKey: id
    columns: { id: integer, name: string, email: string, ok: boolean }
    targeting:
      email: { address: email, optIn: ok }
`);
const PEOPLE = [
  { id: 1, name: 'Ann', email: 'ann@example.test', ok: true },
  { id: 2, name: 'Bob', email: 'temp4xx-2-bob@example.test', ok: true },
  { id: 3, name: 'Cid', email: 'perm550-cid@example.test', ok: true },
  { id: 4, name: 'Dan', email: 'full552-dan@example.test', ok: true },
  { id: 5, name: 'Eve', email: 'policy554-eve@example.test', ok: true },
  { id: 6, name: 'Fay', email: 'drop-fay@example.test', ok: true },
  { id: 7, name: 'Gus', email: 'temp4xx-9-gus@example.test', ok: true },
  { id: 8, name: 'Hal', email: null, ok: true },
];
const START = Date.parse('2026-11-20T09:00:00Z');

describeEachDatabase('email delivery', (t) => {
  let sink: SmtpSink;
  let providers: ChannelProviders;
  let signer: TokenSigner;
  beforeAll(async () => {
    sink = await startSmtpSink();
    await loadDataset(t, SCHEMA, { people: PEOPLE });
    await saveCampaign(t.database, {
      id: 'hello',
      name: 'Hello',
      activities: {
        everyone: { type: 'build-audience', dimension: 'people' },
        mail: {
          type: 'email',
          input: 'everyone',
          from: 'shop@example.test',
          subject: 'Hello {{ profile.name }}',
          html: '<html><body><p>Hi {{ profile.name }}, see <a href="https://shop.example/sale?id={{ profile.id }}">the sale</a>.</p></body></html>',
        },
        after: { type: 'end', input: 'mail.sent' },
      },
    });
    ({ providers, signer } = deliveryServices(t, sink.url));
  });
  afterAll(async () => {
    await providers.close();
    await sink.close();
  });

  it('previews the first messages in a test run, links as written, and sends nothing', async () => {
    const engine = new Engine(t.database);
    const { run, finished } = await engine.start('hello');
    expect((await finished).status).toBe('done');
    await engine.close();
    const previews = await listPreviews(t.database, run);
    expect(previews.map((p) => [p.activity, p.recipient])).toEqual([
      ['mail', '1'],
      ['mail', '2'],
      ['mail', '3'],
    ]);
    const first = previews[0]!.content as { message: { subject: string; html: string; to: string } };
    expect(first.message.subject).toBe('Hello Ann');
    expect(first.message.to).toBe('ann@example.test');
    expect(first.message.html).toContain('href="https://shop.example/sale?id=1"');
    expect(first.message.html).not.toContain('/t/o/');
    expect(sink.received()).toEqual([]);
    expect((await ledgerCounts(t.database, run, 'mail')).byStatus).toEqual({});
  });

  it('sends proofs of a test run to test addresses, outside the ledger', async () => {
    const engine = new Engine(t.database);
    const { run, finished } = await engine.start('hello');
    await finished;
    await engine.close();
    const api = await startApi(t, deliveryConfig(t, sink.url));
    try {
      const before = sink.received().length;
      const answer = await api.call<{
        proofs: Array<{ recipient: string; to: string; result: { status: string } }>;
      }>('POST', `/api/runs/${run}/proofs`, {
        json: { activity: 'mail', to: ['qa@example.test', 'lead@example.test'], recipients: ['1', '2'] },
      });
      expect(answer.status).toBe(200);
      expect(answer.body.proofs.map((p) => [p.recipient, p.to, p.result.status])).toEqual([
        ['1', 'qa@example.test', 'accepted'],
        ['1', 'lead@example.test', 'accepted'],
        ['2', 'qa@example.test', 'accepted'],
        ['2', 'lead@example.test', 'accepted'],
      ]);
      const proofs = sink.received().slice(before);
      expect(proofs.map((m) => [m.envelope.to[0], m.subject])).toEqual([
        ['qa@example.test', '[Proof] Hello Ann'],
        ['lead@example.test', '[Proof] Hello Ann'],
        ['qa@example.test', '[Proof] Hello Bob'],
        ['lead@example.test', '[Proof] Hello Bob'],
      ]);
      expect(proofs[0]!.html).toContain('href="https://shop.example/sale?id=1"');
      expect((await ledgerCounts(t.database, run, 'mail')).byStatus).toEqual({});
      const refused = await api.call('POST', `/api/runs/${run}/proofs`, {
        json: { activity: 'everyone', to: ['qa@example.test'] },
      });
      expect(refused.status).toBe(404);
    } finally {
      await api.close();
    }
  });

  it('retries transient failures, bounces and quarantines permanent ones, and sends each message once', async () => {
    // What earlier tests (proofs) made the sink receive is not this send's.
    const earlier = sink.received().length;
    const clock = new ManualClock(START);
    const engine = new Engine(t.database, { clock });
    const sender = new Sender(t.database, {
      owner: 'test-sender',
      composer: new LedgerComposer(t.database, { providers, signer, publicUrl: 'https://t.example' }),
      maxAttempts: 4,
      now: () => clock.now(),
    });
    const { run, finished } = await engine.start('hello', { mode: 'live' });
    expect(await finished).toMatchObject({ status: 'waiting', tasks: { mail: 'waiting', after: 'pending' } });
    // Four rounds, 30 s, 60 s and 120 s apart (the backoff): Bob's two refusals are behind him by the third.
    for (const wait of [0, 30_000, 60_000, 120_000]) {
      clock.advance(wait);
      await sender.drain();
    }
    const byStatus = async () =>
      Object.fromEntries(
        (
          await t.database.db
            .selectFrom('messages')
            .select(['recipient', 'status', 'reason', 'bounce', 'attempts'])
            .where('run_id', '=', run)
            .execute()
        ).map((m) => [m.recipient, [m.status, m.bounce, Number(m.attempts)]]),
      );
    expect(await byStatus()).toEqual({
      '1': ['sent', null, 1],
      '2': ['sent', null, 3],
      '3': ['bounced', 'hard', 1],
      '4': ['bounced', 'soft', 1],
      '5': ['failed', null, 1],
      '6': ['sent', null, 2],
      // Nine refusals to come, four attempts allowed: it fails for good, saying how often it was tried.
      '7': ['failed', null, 4],
      '8': ['excluded', null, 0],
    });
    // Each message the provider answered names it, refused or not; the one never sent names none.
    const answeredBy = await t.database.db
      .selectFrom('messages')
      .select(['status', 'provider'])
      .distinct()
      .where('run_id', '=', run)
      .execute();
    expect(answeredBy.map((p) => `${p.status}:${p.provider}`).sort()).toEqual([
      'bounced:smtp',
      'excluded:null',
      'failed:smtp',
      'sent:smtp',
    ]);
    const quarantined = await t.database.db.selectFrom('quarantine').select(['channel', 'address']).execute();
    expect(quarantined).toEqual([{ channel: 'email', address: 'perm550-cid@example.test' }]);

    // Each accepted message arrived once, with the ledger's id as its Message-ID and a tracked link.
    const received = sink.received().slice(earlier);
    expect(received.map((m) => m.envelope.to[0]).sort()).toEqual([
      'ann@example.test',
      'drop-fay@example.test',
      'temp4xx-2-bob@example.test',
    ]);
    const ann = received.find((m) => m.envelope.to[0] === 'ann@example.test')!;
    const annRow = await t.database.db
      .selectFrom('messages')
      .select(['id', 'links'])
      .where('run_id', '=', run)
      .where('recipient', '=', '1')
      .executeTakeFirstOrThrow();
    expect(ann.messageId).toBe(`<${annRow.id}@t.example>`);
    expect(ann.subject).toBe('Hello Ann');
    expect(JSON.parse(annRow.links!)).toEqual(['https://shop.example/sale?id=1']);
    const click = /https:\/\/t\.example\/t\/c\/([A-Za-z0-9_-]+)/.exec(ann.html!)?.[1];
    expect(signer.verify(click!)).toEqual({ kind: 'click', messageId: annRow.id, link: 0 });
    expect(ann.raw).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');
    expect(ann.raw).toMatch(/List-Unsubscribe:\s+<https:\/\/t\.example\/u\/[A-Za-z0-9_-]+>/);

    // A receipt comes back before the activity goes on: Ann is delivered, and still among those sent.
    await recordFeedback(t.database, {
      items: [{ kind: 'delivered', messageId: annRow.id, key: 'receipt-ann', reason: null }],
      ignored: {},
    });
    // Every message is final: the activity goes on with the recipients that were sent.
    clock.advance(5_000);
    const woken = await engine.sweep();
    expect(await woken[0]!.finished).toMatchObject({ status: 'done', counts: { 'mail.sent': 3 } });
    const sent = await transitionRows(t.database, run, 'mail.sent', { limit: 10, offset: 0 });
    expect(sent.rows.map((r) => r.id)).toEqual([1, 2, 6]);
    expect((await ledgerCounts(t.database, run, 'mail')).byStatus).toEqual({
      sent: 2,
      delivered: 1,
      bounced: 2,
      failed: 2,
      excluded: 1,
    });
    expect((await runStatus(t.database, run)).tasks.after).toBe('done');
    // Polled again and again while sending, the activity classified its recipients and said so once.
    const queuedLines = (await runLogs(t.database, run, { activity: 'mail' })).filter(
      (l) => l.fields.event === 'channel.queued',
    );
    expect(queuedLines.map((l) => l.fields.queued)).toEqual([7]);
    await engine.close();
  });
});
