import type { KyselyPlugin } from 'kysely';
import { SelectQueryNode, TableNode } from 'kysely';
import type { AddressInfo } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { type ChannelProviders } from '../../src/channels/providers/registry.ts';
import { LedgerComposer } from '../../src/delivery/composer.ts';
import { Sender } from '../../src/delivery/sender.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { Engine } from '../../src/engine/engine.ts';
import { watchRun, type RunEvent } from '../../src/engine/run-events.ts';
import { runStatus, type RunStatus } from '../../src/engine/run-inspection.ts';
import type { RunSummary, RunTask } from '../../src/engine/run-lists.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { TokenSigner } from '../../src/tracking/tokens.ts';
import { baton, settingsOf } from '../helpers/cli.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/databases.ts';
import { loadDataset } from '../helpers/expressions.ts';
import { startApi } from '../helpers/http.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { openSse, readUntil } from '../helpers/sse.ts';
import { deliveryServices } from '../helpers/delivery.ts';

/**
 * Live monitoring: the events of a run (a snapshot, then each change once, then the end) read from the
 * database by `watchRun`, served as server-sent events, and followed by `baton status --watch`; and the
 * list of a campaign's runs.
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
  { id: 2, name: 'Bob', email: 'bob@example.test', ok: true },
  { id: 3, name: 'Cid', email: 'perm550-cid@example.test', ok: true },
  { id: 4, name: 'Dan', email: null, ok: true },
  { id: 5, name: 'Eve', email: 'eve@example.test', ok: false },
];
// Far ahead of the system clock: the API's own engine, sweeping by the system clock, never finds the
// live run's wait due and leaves the run to the test's engine and its manual clock.
const START = Date.parse('2099-01-05T09:00:00Z');

/** An alert notifier that holds the alert until `open()`. */
function gate() {
  let open: () => void = () => {};
  const opened = new Promise<void>((resolve) => (open = resolve));
  return { notifier: () => opened, open: () => open() };
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400 && !(await condition()); i++) await delay(25);
  expect(await condition()).toBe(true);
}

/** The run as a client knows it after applying the events in order. */
function replay(events: RunEvent[]): Pick<RunStatus, 'status' | 'error' | 'counts' | 'tasks'> {
  const [snapshot, ...changes] = events;
  if (snapshot?.type !== 'snapshot') throw new Error('the first event is not a snapshot');
  const view = {
    status: snapshot.status,
    error: snapshot.error,
    counts: { ...snapshot.counts },
    tasks: { ...snapshot.tasks },
  };
  for (const e of changes) {
    if (e.type === 'task') view.tasks[e.activity] = e.state;
    if (e.type === 'transition') {
      if (e.count === null) delete view.counts[e.transition];
      else view.counts[e.transition] = e.count;
    }
    if (e.type === 'run' || e.type === 'end') Object.assign(view, { status: e.status, error: e.error });
  }
  return view;
}

/** Each activity's states as the events reported them, in order. */
function statesOf(events: RunEvent[]): Record<string, string[]> {
  const states: Record<string, string[]> = {};
  for (const e of events) if (e.type === 'task') (states[e.activity] ??= []).push(e.state);
  return states;
}

/** The same database, counting the reads of run_logs: each poll of a run's events makes one or more. */
function countingLogReads(t: TestDatabase): { database: TestDatabase; reads: () => number } {
  let reads = 0;
  const plugin: KyselyPlugin = {
    transformQuery({ node }) {
      if (
        SelectQueryNode.is(node) &&
        node.from?.froms.some((f) => TableNode.is(f) && f.table.identifier.name === 'run_logs')
      )
        reads++;
      return node;
    },
    transformResult: ({ result }) => Promise.resolve(result),
  };
  const database = { ...t.database, db: t.database.db.withPlugin(plugin) };
  return { database: { database, config: t.config }, reads: () => reads };
}

describeEachDatabase('run events', (t) => {
  let sink: SmtpSink;
  let providers: ChannelProviders;
  let signer: TokenSigner;
  beforeAll(async () => {
    sink = await startSmtpSink();
    await loadDataset(t, SCHEMA, { people: PEOPLE });
    await saveCampaign(t.database, {
      id: 'breakpoint',
      name: 'Breakpoint',
      activities: {
        everyone: { type: 'build-audience', dimension: 'people' },
        check: { type: 'alert', input: 'everyone', title: 'check', pause: true },
        after: { type: 'end', input: 'check' },
      },
    });
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
          html: '<p>Hi {{ profile.name }}</p>',
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

  it('streams a snapshot, then each change once in order, and ends with the run', async () => {
    const held = gate();
    const engine = new Engine(t.database, { notifier: held.notifier });
    const { run, finished } = await engine.start('breakpoint');
    expect((await finished).status).toBe('paused');
    const watched: Array<{ id: string; event: RunEvent }> = [];
    const watching = (async () => {
      for await (const w of watchRun(t.database, run, { intervalMs: 10 })) watched.push(w);
    })();
    await until(() => watched.length === 1);
    const resumed = await engine.resume(run);
    // The alert is held: the task is seen running before it is done.
    await until(() => statesOf(watched.map((w) => w.event)).check?.includes('running') === true);
    held.open();
    const final = await resumed.finished;
    await watching;
    await engine.close();

    const events = watched.map((w) => w.event);
    const [snapshot] = events;
    expect(snapshot).toMatchObject({
      type: 'snapshot',
      seq: 1,
      run,
      status: 'paused',
      tasks: { everyone: 'done', check: 'paused', after: 'pending' },
      counts: { everyone: 5 },
      taskErrors: {},
      deliveries: [],
    });
    expect(snapshot?.type === 'snapshot' && snapshot.logs.map((l) => l.message)).toContain(
      'breakpoint: paused before running',
    );
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(watched.map((w) => w.id.split(':')[0])).toEqual(events.map((e) => String(e.seq)));
    // Nothing is sent twice.
    expect(new Set(events.map((e) => JSON.stringify({ ...e, seq: 0 }))).size).toBe(events.length);

    const states = statesOf(events);
    expect([
      ['pending', 'running', 'done'],
      ['running', 'done'],
    ]).toContainEqual(states.check);
    expect(states.after?.at(-1)).toBe('done');
    expect(states.everyone).toBeUndefined();
    expect(events.filter((e) => e.type === 'transition')).toEqual([
      { type: 'transition', seq: expect.any(Number) as number, transition: 'check', count: 5 },
    ]);
    expect(events.filter((e) => e.type === 'run').map((e) => e.type === 'run' && e.status)).toEqual([
      'running',
      'done',
    ]);
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'done', error: null });
    expect(events.filter((e) => e.type === 'end')).toHaveLength(1);
    // Applied in order, the events give the run as it ended.
    expect(replay(events)).toEqual({
      status: final.status,
      error: null,
      counts: final.counts,
      tasks: final.tasks,
    });
    // Log lines come once each, in order, after those of the snapshot; the last one closes the run.
    const lines = events.flatMap((e) => (e.type === 'snapshot' ? e.logs : e.type === 'log' ? e.lines : []));
    const lineIds = lines.map((l) => l.id);
    expect(lineIds).toEqual([...lineIds].sort((a, b) => a - b));
    expect(new Set(lineIds).size).toBe(lineIds.length);
    expect(lines.map((l) => l.message)).toEqual(expect.arrayContaining(['run resumed', 'done']));
    expect(lines.at(-1)?.message).toBe('run done');

    // A client resuming after the first task change gets a snapshot numbered after it, and only the
    // log lines it had not received.
    const cut = watched.findIndex((w) => w.event.type === 'task');
    const resumedEvents: RunEvent[] = [];
    for await (const { event } of watchRun(t.database, run, {
      intervalMs: 10,
      resumeFrom: watched[cut]!.id,
    }))
      resumedEvents.push(event);
    const missed = events.slice(cut + 1).flatMap((e) => (e.type === 'log' ? e.lines : []));
    expect(resumedEvents).toEqual([
      expect.objectContaining({ type: 'snapshot', seq: cut + 2, status: 'done', logs: missed }),
      expect.objectContaining({ type: 'end', seq: cut + 3, status: 'done' }),
    ]);
  });

  it('serves the events of a live send over SSE, delivery counts included, and closes with the run', async () => {
    const clock = new ManualClock(START);
    const engine = new Engine(t.database, { clock });
    const sender = new Sender(t.database, {
      owner: 'test-sender',
      composer: new LedgerComposer(t.database, { providers, signer, publicUrl: 'https://t.example' }),
      maxAttempts: 2,
      now: () => clock.now(),
    });
    // A live run of no published version sends without asking for a confirmation.
    const { run, finished } = await engine.start('hello', { mode: 'live' });
    expect(await finished).toMatchObject({ status: 'waiting', tasks: { mail: 'waiting' } });
    const api = await startApi(t);
    const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    try {
      const stream = await openSse(`${base}/api/runs/${run}/events`);
      expect(stream.status).toBe(200);
      expect(stream.headers.get('content-type')).toMatch(/^text\/event-stream/);
      expect(stream.headers.get('cache-control')).toBe('no-cache');
      const [first] = await readUntil<RunEvent>(stream.frames, () => true);
      expect(first!.frame).toMatchObject({
        event: 'snapshot',
        id: expect.stringMatching(/^1:\d+$/) as string,
      });
      const queued = {
        activity: 'mail',
        queued: 3,
        sending: 0,
        sent: 0,
        delivered: 0,
        failed: 0,
        bounced: 0,
        excluded: 2,
        uncertain: 0,
        excludedByReason: { 'no-address': 1, 'not-opted-in': 1 },
      };
      expect(first!.event).toMatchObject({ status: 'waiting', deliveries: [queued] });

      await sender.drain();
      clock.advance(5_000);
      const woken = await engine.sweep();
      expect(await woken[0]!.finished).toMatchObject({ status: 'done', counts: { 'mail.sent': 2 } });
      const rest = await readUntil<RunEvent>(stream.frames, () => false);
      const events = [first!.event, ...rest.map((r) => r.event)];
      // Every frame's event name is its type, its id starts with its seq.
      for (const { frame, event } of rest) {
        expect(frame.event).toBe(event.type);
        expect(frame.id?.split(':')[0]).toBe(String(event.seq));
      }
      const deliveries = events.filter((e) => e.type === 'delivery');
      expect(deliveries.length).toBeGreaterThan(0);
      expect(deliveries.at(-1)).toEqual({
        type: 'delivery',
        seq: expect.any(Number) as number,
        ...queued,
        queued: 0,
        sent: 2,
        bounced: 1,
      });
      // Messages only move forward: what went out never decreases.
      const gone = deliveries.map((d) => (d.type === 'delivery' ? d.sent + d.bounced + d.failed : 0));
      expect(gone).toEqual([...gone].sort((a, b) => a - b));
      expect(events).toContainEqual(
        expect.objectContaining({ type: 'transition', transition: 'mail.sent', count: 2 }),
      );
      expect(events.at(-1)).toMatchObject({ type: 'end', status: 'done' });
      expect(replay(events)).toMatchObject({
        status: 'done',
        tasks: (await runStatus(t.database, run)).tasks,
      });

      // Reconnecting with Last-Event-ID: a snapshot numbered after it, then the end at once.
      const again = await openSse(`${base}/api/runs/${run}/events`, {
        headers: { 'last-event-id': rest.at(-1)!.frame.id! },
      });
      const replayed = await readUntil<RunEvent>(again.frames, () => false);
      expect(replayed.map((r) => [r.event.type, r.event.seq])).toEqual([
        ['snapshot', events.length + 1],
        ['end', events.length + 2],
      ]);
      expect(replayed[0]!.event).toMatchObject({
        logs: [],
        deliveries: [{ ...queued, queued: 0, sent: 2, bounced: 1 }],
      });

      const unknown = await api.call<{ error: { message: string } }>('GET', '/api/runs/nope/events');
      expect(unknown.status).toBe(404);
      expect(unknown.body.error.message).toBe('No run nope.');
      expect((await api.call('GET', `/api/runs/${run}/events?level=loud`)).status).toBe(400);
    } finally {
      await api.close();
      await engine.close();
    }
  });

  it('stops reading the database when the client goes away, and closes open streams with the server', async () => {
    const engine = new Engine(t.database);
    const { run, finished } = await engine.start('breakpoint');
    expect((await finished).status).toBe('paused');
    await engine.close();
    const counted = countingLogReads(t);
    const api = await startApi(counted.database);
    const base = `http://127.0.0.1:${(api.app.server.address() as AddressInfo).port}`;
    try {
      const client = new AbortController();
      const stream = await openSse(`${base}/api/runs/${run}/events`, { signal: client.signal });
      await readUntil(stream.frames, () => true);
      // A paused run: the stream stays open, polling every 500 ms.
      const before = counted.reads();
      await until(() => counted.reads() >= before + 2);
      client.abort();
      await delay(200);
      const afterLeaving = counted.reads();
      await delay(1_500);
      expect(counted.reads()).toBe(afterLeaving);

      // A stream still open when the server closes is ended, and the close does not wait for it.
      const open = await openSse(`${base}/api/runs/${run}/events`);
      await readUntil(open.frames, () => true);
      await api.close();
      expect(await readUntil(open.frames, () => false)).toEqual([]);
    } finally {
      await api.close();
    }
  });

  it("lists a campaign's runs, newest first, with their ledger totals; and a run's tasks", async () => {
    const engine = new Engine(t.database);
    const tested = await engine.start('hello');
    expect((await tested.finished).status).toBe('done');
    await engine.close();
    const api = await startApi(t);
    try {
      type Listed = { total: number; runs: RunSummary[] };
      const all = await api.call<Listed>('GET', '/api/campaigns/hello/runs');
      expect(all.status).toBe(200);
      expect(all.body.total).toBe(2);
      expect(all.body.runs.map((r) => [r.mode, r.status])).toEqual([
        ['test', 'done'],
        ['live', 'done'],
      ]);
      const [test, live] = all.body.runs;
      expect(test).toMatchObject({
        id: tested.run,
        trigger: 'manual',
        version: null,
        error: null,
        sent: 0,
        failed: 0,
        bounced: 0,
        excluded: 0,
      });
      expect(live).toMatchObject({ sent: 2, failed: 0, bounced: 1, excluded: 2 });
      expect(Date.parse(live!.finishedAt!)).toBeGreaterThanOrEqual(Date.parse(live!.startedAt));
      const liveOnly = await api.call<Listed>('GET', '/api/campaigns/hello/runs?mode=live');
      expect(liveOnly.body).toEqual({ total: 1, runs: [live] });
      const page = await api.call<Listed>('GET', '/api/campaigns/hello/runs?limit=1&offset=1');
      expect(page.body).toEqual({ total: 2, runs: [live] });
      const failed = await api.call<Listed>('GET', '/api/campaigns/hello/runs?status=failed');
      expect(failed.body).toEqual({ total: 0, runs: [] });
      expect((await api.call('GET', '/api/campaigns/hello/runs?mode=dry')).status).toBe(400);
      expect((await api.call('GET', '/api/campaigns/nope/runs')).status).toBe(404);

      const tasks = await api.call<{ tasks: RunTask[] }>('GET', `/api/runs/${live!.id}/tasks`);
      expect(tasks.body.tasks.map((x) => [x.activity, x.type, x.state])).toEqual([
        ['everyone', 'build-audience', 'done'],
        ['mail', 'email', 'done'],
        ['after', 'end', 'done'],
      ]);
      expect(tasks.body.tasks[1]).toMatchObject({ outputs: { 'mail.sent': 2 }, error: null });
      expect(tasks.body.tasks[1]!.attempts).toBeGreaterThanOrEqual(1);
      expect(tasks.body.tasks[1]!.durationMs).toBeGreaterThanOrEqual(0);
      const mail = await api.call<{ tasks: RunTask[] }>(
        'GET',
        `/api/runs/${live!.id}/tasks?activity=mail&state=done`,
      );
      expect(mail.body.tasks.map((x) => x.activity)).toEqual(['mail']);
      const none = await api.call<{ tasks: RunTask[] }>('GET', `/api/runs/${live!.id}/tasks?state=failed`);
      expect(none.body.tasks).toEqual([]);
      expect((await api.call('GET', `/api/runs/${live!.id}/tasks?state=lost`)).status).toBe(400);
      expect((await api.call('GET', '/api/runs/nope/tasks')).status).toBe(404);
    } finally {
      await api.close();
    }
  });

  it('follows a run in the terminal: baton status --watch, as NDJSON or as lines; baton runs list', async () => {
    const engine = new Engine(t.database);
    const paused = await engine.start('breakpoint');
    expect((await paused.finished).status).toBe('paused');
    const watching = baton(['status', paused.run, '--watch', '--json', '--interval', '50'], settingsOf(t));
    // Resumed once the command (a few seconds to start) follows the paused run; had it not started
    // reading yet, it would see the run ended, and the same lines hold.
    await delay(4_000);
    expect((await (await engine.resume(paused.run)).finished).status).toBe('done');
    const watched = await watching;
    expect(watched.stderr).toBe('');
    expect(watched.code).toBe(0);
    const events = watched.stdout
      .trim()
      .split('\n')
      .map((line) => JSON.parse(line) as RunEvent);
    expect(events[0]).toMatchObject({ type: 'snapshot', seq: 1, run: paused.run });
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    expect(events.at(-1)).toMatchObject({ type: 'end', status: 'done' });
    expect(replay(events).tasks).toEqual({ everyone: 'done', check: 'done', after: 'done' });
    if (events[0]?.type === 'snapshot' && events[0].status === 'paused')
      expect(statesOf(events).check?.at(-1)).toBe('done');

    // A stopped run: the view, its end, and exit code 1.
    const stopping = await engine.start('breakpoint');
    await stopping.finished;
    await engine.stop(stopping.run);
    await engine.close();
    const stopped = await baton(['status', stopping.run, '--watch'], settingsOf(t));
    expect(stopped.code).toBe(1);
    expect(stopped.stdout).toContain(`Test run ${stopping.run} of breakpoint: stopped`);
    expect(stopped.stdout.trim().split('\n').at(-1)).toBe('run ended: stopped');

    const listed = await baton(['runs', 'list', 'breakpoint', '--json', '--limit', '2'], settingsOf(t));
    expect(listed.code).toBe(0);
    const list = JSON.parse(listed.stdout) as { total: number; runs: RunSummary[] };
    expect(list.runs.map((r) => [r.id, r.status])).toEqual([
      [stopping.run, 'stopped'],
      [paused.run, 'done'],
    ]);
    expect(list.total).toBeGreaterThanOrEqual(2);
  });
});
