import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { Engine } from '../../src/engine/engine.ts';
import { runStatus } from '../../src/engine/run-inspection.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { loadDataset } from '../helpers/expressions.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { startWorkerProcess, stopProcess, waitFor } from '../helpers/workers.ts';

/**
 * `kill -9` of the process sending a 20,000-recipient email, twice, at different points, then a worker
 * that finishes the job: every recipient ends sent exactly once, or `uncertain` (SMTP cannot say whether a
 * message whose sender died went out) — none sent twice, none missing.
 */
const RECIPIENTS = 20_000;
const SCHEMA = parseSchemaText(`
tables:
  people:
    primaryKey: id
    columns: { id: integer, name: string, email: string }
    targeting:
      email: { address: email }
`);

describeEachDatabase('delivery across crashes', (t) => {
  let sink: SmtpSink;
  const workers: ChildProcess[] = [];
  beforeAll(async () => {
    sink = await startSmtpSink({ parse: false });
    const people = Array.from({ length: RECIPIENTS }, (_, i) => ({
      id: i + 1,
      name: `P${i + 1}`,
      email: `p${i + 1}@example.test`,
    }));
    await loadDataset(t, SCHEMA, { people });
    await saveCampaign(t.database, {
      id: 'big-send',
      name: 'Big send',
      activities: {
        everyone: { type: 'build-audience', dimension: 'people' },
        mail: {
          type: 'email',
          input: 'everyone',
          from: 'shop@example.test',
          subject: 'Hi {{ profile.name }}',
          html: '<p>Hi {{ profile.name }}, <a href="https://shop.example/?p={{ profile.id }}">shop</a></p>',
        },
      },
    });
  });
  afterAll(async () => {
    for (const worker of workers) worker.kill('SIGKILL');
    await sink.close();
  });

  const startWorker = () => {
    const worker = startWorkerProcess(t, { SMTP_URL: sink.url, BATON_SEND_LEASE_SECONDS: '1' });
    workers.push(worker);
    return worker;
  };
  const accepted = () => [...sink.deliveries().values()].reduce((a, b) => a + b, 0);
  const kill = (worker: ChildProcess) => stopProcess(worker, 'SIGKILL');

  it(
    'sends every message exactly once or counts it uncertain, through two kill -9',
    { timeout: 300_000 },
    async () => {
      const engine = new Engine(t.database);
      const { run, finished } = await engine.start('big-send', { mode: 'live' });
      expect((await finished).status).toBe('waiting');
      await engine.close();

      await kill(
        await (async () => {
          const w = startWorker();
          await waitFor(() => accepted() >= 2_000, '2,000 messages');
          return w;
        })(),
      );
      await kill(
        await (async () => {
          const w = startWorker();
          await waitFor(() => accepted() >= 9_000, '9,000 messages');
          return w;
        })(),
      );
      const last = startWorker();
      await waitFor(async () => (await runStatus(t.database, run)).status === 'done', 'the run to finish');
      last.kill('SIGTERM');

      const ledger = await t.database.db
        .selectFrom('messages')
        .select(['address', 'status'])
        .where('run_id', '=', run)
        .execute();
      expect(ledger).toHaveLength(RECIPIENTS);
      const deliveries = sink.deliveries();
      const byStatus: Record<string, number> = {};
      for (const { address, status } of ledger) {
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        const times = deliveries.get(address!) ?? 0;
        if (status === 'sent') expect(times, address!).toBe(1);
        else {
          expect(status, address!).toBe('uncertain');
          expect(times, address!).toBeLessThanOrEqual(1);
        }
      }
      // Nothing arrived twice, and nothing arrived that the ledger does not know.
      expect([...deliveries.values()].every((n) => n === 1)).toBe(true);
      expect(deliveries.size).toBeLessThanOrEqual(RECIPIENTS);
      expect(byStatus.sent! + (byStatus.uncertain ?? 0)).toBe(RECIPIENTS);
      process.stdout.write(
        `crash test (${t.database.kind}): ${JSON.stringify(byStatus)}, received ${deliveries.size}\n`,
      );
    },
  );
});
