import { spawn } from 'node:child_process';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it, onTestFinished } from 'vitest';
import {
  liveProcesses,
  markSchedulerLeader,
  registerProcess,
  type RegisteredProcess,
} from '../../src/operations/process-registry.ts';
import { ROOT } from '../helpers/cli.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { startApi, type ApiCall } from '../helpers/http.ts';

/**
 * Operations: the process registry (heartbeats, pruning, with an injected clock), /healthz, /metrics in
 * Prometheus' text format with values checked against rows the test wrote, and a `baton worker` process
 * seen alive and then gone after SIGTERM.
 */

interface Health {
  status: string;
  database: string;
  schemaVersion: number | null;
  processes: { servers: number; workers: number };
  scheduler: { leader: string | null };
}

interface PromSample {
  name: string;
  labels: Record<string, string>;
  value: number;
}

/**
 * A strict reader of the text exposition format 0.0.4: every line is a HELP, a TYPE or a sample, and a
 * sample's metric has had both its HELP and its TYPE before it.
 */
function parsePrometheus(text: string): { samples: PromSample[]; types: Map<string, string> } {
  expect(text.endsWith('\n')).toBe(true);
  const helps = new Set<string>();
  const types = new Map<string, string>();
  const samples: PromSample[] = [];
  for (const line of text.slice(0, -1).split('\n')) {
    const help = /^# HELP ([a-zA-Z_:][a-zA-Z0-9_:]*) \S.*$/.exec(line);
    const type = /^# TYPE ([a-zA-Z_:][a-zA-Z0-9_:]*) (counter|gauge|histogram|summary|untyped)$/.exec(line);
    if (help) {
      expect(helps.has(help[1]!), `second HELP for ${help[1]}`).toBe(false);
      helps.add(help[1]!);
      continue;
    }
    if (type) {
      expect(helps.has(type[1]!), `TYPE before HELP for ${type[1]}`).toBe(true);
      types.set(type[1]!, type[2]!);
      continue;
    }
    const sample = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!sample) throw new Error(`not a Prometheus line: ${JSON.stringify(line)}`);
    const name = sample[1]!;
    const labelText = sample[2] ?? '';
    const valueText = sample[3]!;
    expect(types.has(name), `sample of ${name} before its TYPE`).toBe(true);
    const labels: Record<string, string> = {};
    const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\[\\"n])*)"(,|$)/y;
    while (label.lastIndex < labelText.length) {
      const at = label.lastIndex;
      const match = label.exec(labelText);
      if (!match || match.index !== at) throw new Error(`bad labels in ${JSON.stringify(line)}`);
      labels[match[1]!] = match[2]!.replace(/\\([\\"n])/g, (_, c: string) => (c === 'n' ? '\n' : c));
    }
    const value =
      valueText === '+Inf'
        ? Infinity
        : valueText === '-Inf'
          ? -Infinity
          : valueText === 'NaN'
            ? NaN
            : Number(valueText);
    if (valueText !== 'NaN' && Number.isNaN(value)) throw new Error(`bad value in ${JSON.stringify(line)}`);
    samples.push({ name, labels, value });
  }
  return { samples, types };
}

function valueOf(
  samples: PromSample[],
  name: string,
  labels: Record<string, string> = {},
): number | undefined {
  const found = samples.filter(
    (s) =>
      s.name === name &&
      Object.keys(s.labels).length === Object.keys(labels).length &&
      Object.entries(labels).every(([k, v]) => s.labels[k] === v),
  );
  expect(found.length, `${name}${JSON.stringify(labels)} appears once`).toBeLessThanOrEqual(1);
  return found[0]?.value;
}

describeEachDatabase('health, metrics and the process registry', (t) => {
  let call: ApiCall;
  let close: () => Promise<void>;
  beforeAll(async () => {
    ({ call, close } = await startApi(t));
  });
  afterAll(() => close());

  const health = async () => {
    const response = await call<Health>('GET', '/healthz');
    expect(response.status).toBe(200);
    return response.body;
  };
  const scrape = async () => {
    const response = await call('GET', '/metrics');
    expect(response.status).toBe(200);
    expect(response.headers.get('content-type')).toBe('text/plain; version=0.0.4; charset=utf-8');
    return parsePrometheus(response.text);
  };
  const workerRows = () =>
    t.database.db.selectFrom('workers').select(['id', 'seen_ms']).orderBy('id').execute();

  it('registers processes, heartbeats and prunes the stale ones (on an injected clock)', async () => {
    let now = Date.now();
    const clock = () => now;
    const slow = 3_600_000;
    const server = await registerProcess(t.database, { kind: 'server', now: clock, heartbeatMs: slow });
    const worker = await registerProcess(t.database, { kind: 'worker', now: clock, heartbeatMs: slow });
    expect(server.id).toMatch(/^.+-\d+-[0-9a-f]{4}$/);
    expect(server.id).not.toBe(worker.id);
    const live = await liveProcesses(t.database, now);
    expect(live.map((p) => [p.id, p.kind, p.pid, p.seenMs, p.scheduler])).toEqual(
      [
        [server.id, 'server', process.pid, now, false],
        [worker.id, 'worker', process.pid, now, false],
      ].sort((a, b) => String(a[0]).localeCompare(String(b[0]))),
    );

    // 31 s on, only the server beat: the worker is no longer counted, but its row stays (not stale yet).
    now += 31_000;
    await server.heartbeat();
    expect((await liveProcesses(t.database, now)).map((p) => p.id)).toEqual([server.id]);
    expect((await workerRows()).map((r) => r.id).sort()).toEqual([server.id, worker.id].sort());

    // 61 s after its last beat, the server's heartbeat prunes the worker's row.
    now += 30_000;
    await server.heartbeat();
    expect((await workerRows()).map((r) => [r.id, Number(r.seen_ms)])).toEqual([[server.id, now]]);

    // A worker that was only stalled comes back with its next beat.
    await worker.heartbeat();
    expect((await liveProcesses(t.database, now)).map((p) => p.id).sort()).toEqual(
      [server.id, worker.id].sort(),
    );

    await server.close();
    await worker.close();
    await worker.close();
    expect(await workerRows()).toEqual([]);
  });

  it('heartbeats on its own, and stops when closed', async () => {
    const registered = await registerProcess(t.database, { kind: 'worker', heartbeatMs: 20 });
    const first = Number((await workerRows())[0]!.seen_ms);
    const until = Date.now() + 10_000;
    while (Number((await workerRows())[0]!.seen_ms) === first) {
      if (Date.now() > until) throw new Error('no heartbeat within 10 s');
      await delay(10);
    }
    await registered.close();
    await delay(60);
    expect(await workerRows()).toEqual([]);
  });

  it('reports live servers and workers and the scheduler leader in /healthz and /metrics', async () => {
    expect(await health()).toEqual({
      status: 'ok',
      database: t.database.kind,
      schemaVersion: null,
      processes: { servers: 0, workers: 0 },
      scheduler: { leader: null },
    });
    const registered: RegisteredProcess[] = [
      await registerProcess(t.database, { kind: 'server' }),
      await registerProcess(t.database, { kind: 'worker' }),
      await registerProcess(t.database, { kind: 'worker' }),
    ];
    try {
      expect(await health()).toMatchObject({
        status: 'ok',
        processes: { servers: 1, workers: 2 },
        scheduler: { leader: null },
      });
      let { samples } = await scrape();
      expect(valueOf(samples, 'baton_processes', { kind: 'server' })).toBe(1);
      expect(valueOf(samples, 'baton_processes', { kind: 'worker' })).toBe(2);
      expect(valueOf(samples, 'baton_scheduler_leader')).toBe(0);

      const leader = registered[1]!.id;
      await markSchedulerLeader(t.database, leader, true);
      expect((await health()).scheduler).toEqual({ leader });
      ({ samples } = await scrape());
      expect(valueOf(samples, 'baton_scheduler_leader')).toBe(1);

      await markSchedulerLeader(t.database, leader, false);
      expect((await health()).scheduler).toEqual({ leader: null });
    } finally {
      for (const r of registered) await r.close();
    }
    expect((await health()).processes).toEqual({ servers: 0, workers: 0 });
  });

  it('serves /metrics in the Prometheus text format, with the counts of the ledger', async () => {
    const now = Date.now();
    const iso = (ms: number) => new Date(ms).toISOString();
    const longAgo = iso(now - 7_200_000);
    const recently = iso(now - 10_000);
    const runs = [
      { id: 'r-live-running', mode: 'live', status: 'running' },
      { id: 'r-live-waiting', mode: 'live', status: 'waiting' },
      { id: 'r-test-done', mode: 'test', status: 'done' },
    ];
    await t.database.db
      .insertInto('runs')
      .values(
        runs.map((r) => ({
          ...r,
          campaign_id: 'c',
          trigger: 'manual',
          document: '{"activities":{}}',
          now_ms: now,
          started_at: longAgo,
        })),
      )
      .execute();
    const tasks: Array<[string, string, string]> = [
      ['r-live-running', 'a', 'running'],
      ['r-live-running', 'b', 'running'],
      ['r-live-running', 'c', 'done'],
      ['r-live-waiting', 'a', 'waiting'],
      // A finished run's tasks are not counted.
      ['r-test-done', 'a', 'done'],
      ['r-test-done', 'b', 'failed'],
    ];
    await t.database.db
      .insertInto('run_tasks')
      .values(tasks.map(([run_id, activity, state]) => ({ run_id, activity, state })))
      .execute();
    // A channel no provider has, with characters the format must escape in a label value.
    const odd = 'odd"ch\\an\nnel';
    const messages: Array<[channel: string, status: string, sentAt: string | null]> = [
      ['email', 'sent', recently],
      ['email', 'sent', recently],
      ['email', 'sent', longAgo],
      ['email', 'bounced', longAgo],
      ['email', 'queued', null],
      ['email', 'queued', null],
      ['email', 'sending', null],
      ['email', 'excluded', null],
      ['sms', 'sent', recently],
      ['sms', 'failed', null],
      [odd, 'queued', null],
    ];
    await t.database.db
      .insertInto('messages')
      .values(
        messages.map(([channel, status, sentAt], i) => ({
          id: `m${i}`,
          run_id: 'r-live-running',
          activity: 'send',
          campaign_id: 'c',
          channel,
          recipient: String(i),
          position: i,
          status,
          queued_at: longAgo,
          sent_at: sentAt,
          updated_at: longAgo,
        })),
      )
      .execute();

    // The worker of the next test would try to send them.
    onTestFinished(async () => {
      await t.database.db.deleteFrom('messages').execute();
      await t.database.db.deleteFrom('run_tasks').execute();
      await t.database.db.deleteFrom('runs').execute();
    });

    const { samples, types } = await scrape();
    const v = (name: string, labels: Record<string, string> = {}) => valueOf(samples, name, labels);

    expect(v('baton_database_up')).toBe(1);
    expect(v('baton_runs', { status: 'running', mode: 'live' })).toBe(1);
    expect(v('baton_runs', { status: 'waiting', mode: 'live' })).toBe(1);
    expect(v('baton_runs', { status: 'done', mode: 'test' })).toBe(1);
    expect(v('baton_runs', { status: 'failed', mode: 'live' })).toBe(0);
    expect(samples.filter((s) => s.name === 'baton_runs').reduce((a, s) => a + s.value, 0)).toBe(3);

    expect(v('baton_tasks', { state: 'running' })).toBe(2);
    expect(v('baton_tasks', { state: 'done' })).toBe(1);
    expect(v('baton_tasks', { state: 'waiting' })).toBe(1);
    expect(v('baton_tasks', { state: 'failed' })).toBe(0);

    expect(v('baton_messages', { status: 'sent', channel: 'email' })).toBe(3);
    expect(v('baton_messages', { status: 'bounced', channel: 'email' })).toBe(1);
    expect(v('baton_messages', { status: 'queued', channel: 'email' })).toBe(2);
    expect(v('baton_messages', { status: 'sending', channel: 'email' })).toBe(1);
    expect(v('baton_messages', { status: 'excluded', channel: 'email' })).toBe(1);
    expect(v('baton_messages', { status: 'sent', channel: 'sms' })).toBe(1);
    expect(v('baton_messages', { status: 'failed', channel: 'sms' })).toBe(1);
    expect(v('baton_messages', { status: 'queued', channel: 'push' })).toBe(0);
    expect(v('baton_messages', { status: 'queued', channel: odd })).toBe(1);
    expect(samples.filter((s) => s.name === 'baton_messages').reduce((a, s) => a + s.value, 0)).toBe(
      messages.length,
    );

    expect(v('baton_queue_depth', { channel: 'email' })).toBe(3);
    expect(v('baton_queue_depth', { channel: 'sms' })).toBe(0);
    expect(v('baton_queue_depth', { channel: odd })).toBe(1);
    // Sent, whatever became of them after: the bounce was accepted first.
    expect(v('baton_messages_sent_total', { channel: 'email' })).toBe(4);
    expect(v('baton_messages_sent_total', { channel: 'sms' })).toBe(1);
    expect(v('baton_messages_sent_total', { channel: 'push' })).toBe(0);
    expect(v('baton_send_rate', { channel: 'email' })).toBeCloseTo(2 / 60, 10);
    expect(v('baton_send_rate', { channel: 'sms' })).toBeCloseTo(1 / 60, 10);
    expect(v('baton_send_rate', { channel: 'direct-mail' })).toBe(0);

    expect(types.get('baton_messages_sent_total')).toBe('counter');
    expect(types.get('process_cpu_seconds_total')).toBe('counter');
    expect(types.get('baton_queue_depth')).toBe('gauge');
    expect(v('process_resident_memory_bytes')).toBeGreaterThan(0);
    expect(v('process_cpu_seconds_total')).toBeGreaterThan(0);
    expect(v('process_start_time_seconds')).toBeLessThanOrEqual(now / 1000 + 1);
    for (const name of [
      'nodejs_eventloop_lag_seconds',
      'nodejs_eventloop_lag_p99_seconds',
      'nodejs_eventloop_lag_max_seconds',
    ]) {
      expect(v(name), name).toBeGreaterThanOrEqual(0);
      expect(v(name), name).toBeLessThan(10);
    }
  });

  it('counts a `baton worker` process alive until SIGTERM stops it, logging JSON lines', async () => {
    const secret = 'operations-test-secret-'.padEnd(48, 'x');
    const env: NodeJS.ProcessEnv = { ...process.env };
    for (const key of ['DATABASE_URL', 'BATON_DATA_DIR', 'PORT', 'HOST', 'LOG_LEVEL', 'LOG_FORMAT'])
      delete env[key];
    Object.assign(env, {
      BATON_DATA_DIR: t.config.dataDir,
      ...(t.config.databaseUrl ? { DATABASE_URL: t.config.databaseUrl } : {}),
      BATON_SECRET: secret,
    });
    const worker = spawn(process.execPath, ['bin/baton.js', 'worker'], {
      cwd: ROOT,
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    worker.stdout.setEncoding('utf8').on('data', (d: string) => (stdout += d));
    worker.stderr.setEncoding('utf8').on('data', (d: string) => (stderr += d));
    const exited = new Promise<number | null>((resolve) => worker.once('exit', resolve));
    try {
      const until = Date.now() + 30_000;
      while ((await health()).processes.workers !== 1) {
        if (Date.now() > until) throw new Error(`the worker never showed up; stderr: ${stderr}`);
        await delay(100);
      }
      const [row] = await liveProcesses(t.database);
      expect(row).toMatchObject({ kind: 'worker', pid: worker.pid });

      worker.kill('SIGTERM');
      expect(await exited).toBe(0);
      expect(await health()).toMatchObject({ processes: { servers: 0, workers: 0 } });
      expect(await workerRows()).toEqual([]);

      const lines = stdout
        .trim()
        .split('\n')
        .map((line) => JSON.parse(line) as { level: number; msg: string; worker?: string });
      expect(
        lines.map((l) => l.msg),
        stdout,
      ).toEqual([
        'worker started: executing runs and sending messages',
        'worker stopping after the batch in flight',
        'worker stopped',
      ]);
      expect(lines.every((l) => l.level === 30)).toBe(true);
      expect(lines[0]!.worker).toBe(row!.id);
      expect(stdout + stderr).not.toContain(secret);
    } finally {
      if (worker.exitCode === null) worker.kill('SIGKILL');
    }
  });
});
