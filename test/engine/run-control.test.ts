import { sql } from 'kysely';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { ManualClock } from '../../src/engine/clock.ts';
import { Engine } from '../../src/engine/engine.ts';
import { runLogs, runStatus, transitionRows } from '../../src/engine/run-inspection.ts';
import type { RunAlert } from '../../src/engine/task-context.ts';
import { workingTableRef } from '../../src/engine/working-tables.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/databases.ts';
import { HARNESS_NOW, loadHarness } from '../helpers/expressions.ts';
import { startApi } from '../helpers/http.ts';
import { memoryRuleIds } from '../helpers/rules.ts';

const DAY = 86_400_000;
const positive = { field: 'i', op: 'gt', value: 0 };
const audience = { type: 'build-audience', dimension: 't', rule: positive };
const expected = memoryRuleIds({ rule: positive });

/** A notifier that holds every alert until `release()`, counting how many are held at once. */
function gatedNotifier() {
  let open: () => void = () => {};
  let gate = new Promise<void>((resolve) => (open = resolve));
  const state = {
    active: 0,
    max: 0,
    seen: [] as RunAlert[],
    notifier: async (alert: RunAlert) => {
      state.seen.push(alert);
      state.active++;
      state.max = Math.max(state.max, state.active);
      await gate;
      state.active--;
    },
    release() {
      open();
    },
    reset() {
      gate = new Promise<void>((resolve) => (open = resolve));
    },
  };
  return state;
}

async function until(condition: () => boolean | Promise<boolean>): Promise<void> {
  for (let i = 0; i < 400 && !(await condition()); i++) await delay(25);
  expect(await condition()).toBe(true);
}

async function tableExists(t: TestDatabase, name: string): Promise<boolean> {
  try {
    await sql`SELECT 1 FROM ${workingTableRef(t.database, name)} LIMIT 1`.execute(t.database.db);
    return true;
  } catch {
    return false;
  }
}

async function ids(t: TestDatabase, run: string, transition: string): Promise<number[]> {
  const page = await transitionRows(t.database, run, transition, { limit: 1000, offset: 0 });
  return page.rows.map((r) => r.id as number);
}

describeEachDatabase('run control', (t) => {
  const engines: Engine[] = [];
  const engine = (options: ConstructorParameters<typeof Engine>[1] = {}) => {
    const created = new Engine(t.database, options);
    engines.push(created);
    return created;
  };

  beforeAll(async () => {
    await loadHarness(t);
  });
  afterAll(async () => {
    await Promise.all(engines.map((e) => e.close()));
  });

  it('keeps a wait on a durable timer across a restart of the engine, and goes on when it is due', async () => {
    await saveCampaign(t.database, {
      id: 'waits',
      name: 'Waits',
      activities: {
        a: audience,
        hold: { type: 'wait', input: 'a', duration: { days: 2 } },
        fixed: { type: 'wait', input: 'a', until: new Date(HARNESS_NOW + 3 * DAY).toISOString() },
        after: { type: 'end', input: 'hold' },
        'after-fixed': { type: 'end', input: 'fixed' },
      },
    });
    const clock = new ManualClock(HARNESS_NOW);
    const first = engine({ clock });
    const { run, finished } = await first.start('waits', { mode: 'live' });
    expect(await finished).toMatchObject({
      status: 'waiting',
      tasks: { a: 'done', hold: 'waiting', fixed: 'waiting', after: 'pending' },
    });
    const wakes = async () =>
      Object.fromEntries(
        (
          await t.database.db
            .selectFrom('run_tasks')
            .select(['activity', 'wake_at'])
            .where('run_id', '=', run)
            .where('wake_at', 'is not', null)
            .execute()
        ).map((r) => [r.activity, Number(r.wake_at)]),
      );
    expect(await wakes()).toEqual({ hold: HARNESS_NOW + 2 * DAY, fixed: HARNESS_NOW + 3 * DAY });
    // The process goes away; another one, a day later, finds nothing due yet.
    await first.close();
    clock.advance(DAY);
    const second = engine({ clock });
    expect(await second.sweep()).toEqual([]);
    // Two days after the start the first wait is due (its time was not counted again from the restart).
    clock.advance(DAY);
    const woken = await second.sweep();
    expect(woken.map((w) => w.run)).toEqual([run]);
    expect(await woken[0]!.finished).toMatchObject({
      status: 'waiting',
      tasks: { hold: 'done', after: 'done', fixed: 'waiting', 'after-fixed': 'pending' },
    });
    expect(await ids(t, run, 'hold')).toEqual(expected);
    expect(await wakes()).toEqual({ hold: HARNESS_NOW + 2 * DAY, fixed: HARNESS_NOW + 3 * DAY });
    clock.advance(DAY);
    const last = await second.sweep();
    expect(await last[0]!.finished).toMatchObject({
      status: 'done',
      counts: { hold: expected.length, fixed: expected.length },
    });
    expect((await runLogs(t.database, run, { text: 'WAITING UNTIL' })).map((l) => l.activity).sort()).toEqual(
      ['fixed', 'hold'],
    );
  });

  it('runs independent branches at once, never more than the configured limit', async () => {
    await saveCampaign(t.database, {
      id: 'branches',
      name: 'Branches',
      activities: {
        a: audience,
        fork: { type: 'fork', input: 'a', branches: ['x', 'y', 'z'] },
        'alert-x': { type: 'alert', input: 'fork.x', title: 'x' },
        'alert-y': { type: 'alert', input: 'fork.y', title: 'y' },
        'alert-z': { type: 'alert', input: 'fork.z', title: 'z', level: 'warning', message: 'three' },
      },
    });
    for (const concurrency of [1, 2, 3]) {
      const gated = gatedNotifier();
      const running = engine({ concurrency, notifier: gated.notifier });
      const { run, finished } = await running.start('branches', { now: HARNESS_NOW });
      await until(() => gated.seen.length === concurrency);
      // Held at the gate: exactly `concurrency` alerts are being handed over, the others wait their turn.
      await delay(100);
      expect(gated.active).toBe(concurrency);
      gated.release();
      const status = await finished;
      expect(status.status).toBe('done');
      expect(gated.max).toBe(concurrency);
      expect(gated.seen.map((s) => s.title).sort()).toEqual(['x', 'y', 'z']);
      expect(gated.seen.find((s) => s.title === 'z')).toEqual({
        run,
        campaign: 'branches',
        activity: 'alert-z',
        level: 'warning',
        title: 'z',
        message: 'three',
      });
    }
  });

  it('stops at a breakpoint with its input kept for inspection, and goes on when resumed', async () => {
    await saveCampaign(t.database, {
      id: 'breakpoint',
      name: 'Breakpoint',
      activities: {
        a: audience,
        check: { type: 'alert', input: 'a', title: 'check', pause: true },
        after: { type: 'end', input: 'check' },
      },
    });
    const control = engine();
    const { run, finished } = await control.start('breakpoint', { now: HARNESS_NOW });
    expect(await finished).toMatchObject({
      status: 'paused',
      tasks: { a: 'done', check: 'paused', after: 'pending' },
    });
    expect(await ids(t, run, 'a')).toEqual(expected);
    const resumed = await control.resume(run);
    expect(await resumed.finished).toMatchObject({
      status: 'done',
      tasks: { a: 'done', check: 'done', after: 'done' },
      counts: { a: expected.length, check: expected.length },
    });
  });

  it('pauses and stops between tasks; a stopped run only restarts, and a restart drops what ran', async () => {
    await saveCampaign(t.database, {
      id: 'controlled',
      name: 'Controlled',
      activities: {
        a: audience,
        note: { type: 'alert', input: 'a', title: 'note' },
        split: {
          type: 'split',
          input: 'note',
          segments: [{ label: 'first', limit: { count: 1 }, sort: [{ field: 'i', order: 'asc' }] }],
          complement: true,
        },
      },
    });
    const gated = gatedNotifier();
    const control = engine({ notifier: gated.notifier });
    const { run, finished } = await control.start('controlled', { now: HARNESS_NOW });
    await until(() => gated.active === 1);
    const pausing = control.pause(run);
    await until(async () => (await runStatus(t.database, run)).status === 'pausing');
    gated.release();
    expect(await pausing).toMatchObject({ status: 'paused', tasks: { note: 'done', split: 'pending' } });
    expect(await finished).toMatchObject({ status: 'paused' });
    const resumed = await control.resume(run);
    const done = await resumed.finished;
    expect(done).toMatchObject({
      status: 'done',
      counts: { 'split.first': 1, 'split.complement': expected.length - 1 },
    });
    await expect(control.resume(run)).rejects.toThrow(/is done: only a paused or failed run can be resumed/);
    const firstTable = (
      await t.database.db
        .selectFrom('run_transitions')
        .select('working_table')
        .where('run_id', '=', run)
        .where('activity', '=', 'split')
        .where('port', '=', 'first')
        .executeTakeFirstOrThrow()
    ).working_table;

    // Stopped while the alert is held: the alert finishes, nothing after it starts.
    gated.reset();
    const restarted = await control.restart(run);
    expect(await tableExists(t, firstTable)).toBe(false);
    await until(() => gated.active === 1);
    const stopping = control.stop(run);
    await until(async () => (await runStatus(t.database, run)).status === 'stopping');
    gated.release();
    expect(await stopping).toMatchObject({ status: 'stopped', tasks: { note: 'done', split: 'pending' } });
    await restarted.finished;
    await expect(control.resume(run)).rejects.toThrow(/restart it to run it again/);
    await expect(control.pause(run)).rejects.toThrow(/only a running or waiting run can be paused/);
    const again = await control.restart(run);
    expect(await again.finished).toMatchObject({
      status: 'done',
      counts: {
        a: expected.length,
        note: expected.length,
        'split.first': 1,
        'split.complement': expected.length - 1,
      },
    });
  });

  it('resumes a failed run at the failed task, keeping what ran before; live end activities signal', async () => {
    await saveCampaign(t.database, {
      id: 'signals',
      name: 'Signals',
      activities: {
        a: audience,
        done: { type: 'end', input: 'a', signal: { campaign: 'follow-up', parameters: { wave: 2 } } },
      },
    });
    const control = engine();
    const { run, finished } = await control.start('signals', { mode: 'live', now: HARNESS_NOW });
    expect(await finished).toMatchObject({
      status: 'failed',
      error: 'done: cannot signal campaign follow-up: there is no such campaign',
      tasks: { a: 'done', done: 'failed' },
    });
    const aTable = (
      await t.database.db
        .selectFrom('run_transitions')
        .select('working_table')
        .where('run_id', '=', run)
        .executeTakeFirstOrThrow()
    ).working_table;
    await saveCampaign(t.database, { id: 'follow-up', name: 'Follow-up', activities: { a: audience } });
    const resumed = await control.resume(run);
    expect(await resumed.finished).toMatchObject({ status: 'done', error: null, tasks: { done: 'done' } });
    // The audience was not computed again: the same working table.
    expect(
      (
        await t.database.db
          .selectFrom('run_transitions')
          .select('working_table')
          .where('run_id', '=', run)
          .executeTakeFirstOrThrow()
      ).working_table,
    ).toBe(aTable);
    const signals = await t.database.db
      .selectFrom('campaign_signals')
      .select(['campaign_id', 'parameters', 'source_run', 'source_activity'])
      .execute();
    expect(signals).toEqual([
      { campaign_id: 'follow-up', parameters: '{"wave":2}', source_run: run, source_activity: 'done' },
    ]);
    const attempts = await t.database.db
      .selectFrom('run_tasks')
      .select(['activity', 'attempts'])
      .where('run_id', '=', run)
      .orderBy('activity')
      .execute();
    expect(attempts.map((a) => [a.activity, Number(a.attempts)])).toEqual([
      ['a', 1],
      ['done', 2],
    ]);
  });

  it('takes over a run whose process died, executing again the task it left half-done', async () => {
    await saveCampaign(t.database, {
      id: 'orphan',
      name: 'Orphan',
      activities: {
        a: audience,
        b: { type: 'alert', input: 'a', title: 'b' },
        c: { type: 'end', input: 'b' },
      },
    });
    const gated = gatedNotifier();
    const dying = engine({ notifier: gated.notifier });
    const { run } = await dying.start('orphan', { now: HARNESS_NOW });
    await until(() => gated.active === 1);
    // The process "dies" here: its lease lapses with task b still marked running.
    await t.database.db
      .updateTable('runs')
      .set({ lease_until: Date.now() - 1 })
      .where('id', '=', run)
      .execute();
    const heir = engine();
    const taken = await heir.sweep();
    expect(taken.map((s) => s.run)).toEqual([run]);
    expect(await taken[0]!.finished).toMatchObject({
      status: 'done',
      tasks: { a: 'done', b: 'done', c: 'done' },
    });
    expect((await runLogs(t.database, run, { level: 'warning' })).map((l) => l.message)).toContain(
      'the process executing this run stopped: taken over',
    );
    // The first process wakes up to find the run is no longer its own: it writes nothing more.
    const before = await runStatus(t.database, run);
    const lines = (await runLogs(t.database, run, { level: 'debug' })).length;
    gated.release();
    await delay(600);
    expect(await runStatus(t.database, run)).toEqual(before);
    expect((await runLogs(t.database, run, { level: 'debug' })).length).toBe(lines);
  });

  it('writes structured logs, filtered by level, activity and text', async () => {
    await saveCampaign(t.database, {
      id: 'logged',
      name: 'Logged',
      activities: {
        a: audience,
        note: { type: 'alert', input: 'a', title: 'Look 100% here', level: 'error' },
      },
    });
    const { run, finished } = await engine().start('logged', { now: HARNESS_NOW });
    await finished;
    const all = await runLogs(t.database, run, { level: 'debug' });
    expect(all.find((l) => l.activity === 'a' && l.fields.event === 'task.start')?.fields.rows).toBe(0);
    expect(all.find((l) => l.activity === 'note' && l.fields.event === 'task.start')?.fields.rows).toBe(
      expected.length,
    );
    expect(typeof all.find((l) => l.activity === 'a' && l.fields.event === 'task.done')?.fields.ms).toBe(
      'number',
    );
    expect((await runLogs(t.database, run)).some((l) => l.fields.event === 'task.start')).toBe(false);
    expect((await runLogs(t.database, run, { level: 'error' })).map((l) => [l.activity, l.fields])).toEqual([
      ['note', { event: 'alert', title: 'Look 100% here' }],
    ]);
    expect((await runLogs(t.database, run, { text: '100%' })).map((l) => l.activity)).toEqual(['note']);
    expect((await runLogs(t.database, run, { text: '10_%' })).length).toBe(0);
    expect((await runLogs(t.database, run, { activity: 'a' })).map((l) => l.message)).toEqual(['done']);
  });

  it('serves the controls over HTTP, refusing what a run’s state does not allow', async () => {
    await saveCampaign(t.database, {
      id: 'http-controls',
      name: 'HTTP controls',
      activities: { a: audience, check: { type: 'end', input: 'a', pause: true } },
    });
    const api = await startApi(t);
    try {
      const started = await api.call('POST', '/api/campaigns/http-controls/test-runs', {
        json: { now: new Date(HARNESS_NOW).toISOString() },
      });
      expect(started.status).toBe(202);
      const run = (started.body as { run: string }).run;
      await until(async () => (await runStatus(t.database, run)).status === 'paused');
      const resumed = await api.call('POST', `/api/runs/${run}/resume`, { json: {} });
      expect(resumed.status).toBe(202);
      await until(async () => (await runStatus(t.database, run)).status === 'done');
      const refused = await api.call('POST', `/api/runs/${run}/resume`, { json: {} });
      expect(refused.status).toBe(409);
      expect(JSON.stringify(refused.body)).toMatch(/restart it to run it again/);
      expect((await api.call('POST', `/api/runs/${run}/stop`, { json: {} })).status).toBe(409);
      expect((await api.call('POST', `/api/runs/${run}/restart`, { json: {} })).status).toBe(202);
      await until(async () => (await runStatus(t.database, run)).status === 'paused');
      const stopped = await api.call('POST', `/api/runs/${run}/stop`, { json: {} });
      expect(stopped.body).toMatchObject({ status: 'stopped', tasks: { check: 'skipped' } });
      const logs = await api.call('GET', `/api/runs/${run}/logs?level=info&activity=check`);
      expect((logs.body as { logs: Array<{ message: string }> }).logs.map((l) => l.message)).toContain(
        'breakpoint: paused before running',
      );
      expect((await api.call('GET', `/api/runs/${run}/logs?level=loud`)).status).toBe(400);
      expect((await api.call('POST', '/api/runs/nope/stop', { json: {} })).status).toBe(404);
    } finally {
      await api.close();
    }
  });
});
