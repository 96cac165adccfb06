import type { ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { publishCampaign } from '../../src/campaigns/lifecycle.ts';
import { getCampaignSummary, saveCampaign } from '../../src/campaigns/store.ts';
import { Engine } from '../../src/engine/engine.ts';
import { liveProcesses } from '../../src/operations/process-registry.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { loadDataset } from '../helpers/expressions.ts';
import { startSmtpSink, type SmtpSink } from '../helpers/smtp-sink.ts';
import { startWorkerProcess, stopProcess, waitFor } from '../helpers/workers.ts';

/**
 * Three `baton worker` processes share one published campaign: they take its queued run, send its
 * messages between them, and one is killed outright mid-send — the one leading the scheduler, on
 * PostgreSQL, so another takes the lead. The campaign completes; every recipient got the email once or is
 * counted `uncertain` (SMTP cannot say whether the killed worker's last messages left); nothing twice.
 */
const RECIPIENTS = 6_000;
const SCHEMA = parseSchemaText(`
tables:
  people:
    primaryKey: id
    columns: { id: integer, name: string, email: string }
    targeting:
      email: { address: email }
`);

describeEachDatabase('scale-out workers', (t) => {
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
      id: 'shared',
      name: 'Shared send',
      activities: {
        everyone: { type: 'build-audience', dimension: 'people' },
        mail: {
          type: 'email',
          input: 'everyone',
          from: 'shop@example.test',
          sendWithoutConfirmation: true,
          subject: 'Hi {{ profile.name }}',
          html: '<p>Hi {{ profile.name }}</p>',
        },
      },
    });
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => stopProcess(w, 'SIGKILL')));
    await sink.close();
  });

  it(
    'completes a campaign on three workers with one killed mid-send: nothing lost, nothing twice',
    { timeout: 240_000 },
    async () => {
      for (let i = 0; i < 3; i++)
        workers.push(
          startWorkerProcess(t, {
            SMTP_URL: sink.url,
            BATON_SEND_LEASE_SECONDS: '1',
            SMTP_MAX_CONNECTIONS: '3',
          }),
        );
      await waitFor(async () => (await liveProcesses(t.database)).length === 3, 'three workers');
      const engine = new Engine(t.database);
      const { run } = await publishCampaign(t.database, engine, 'shared', new Date());
      await engine.close();

      const accepted = () => [...sink.deliveries().values()].reduce((a, b) => a + b, 0);
      await waitFor(() => accepted() >= 1_500, '1,500 messages');
      // The victim: the scheduler's leader on PostgreSQL (one leads there); any worker on SQLite.
      const processes = await liveProcesses(t.database);
      const leader = processes.find((p) => p.scheduler);
      if (t.database.kind === 'postgres') expect(leader).toBeDefined();
      const victim = workers.find((w) => w.pid === (leader ?? processes[0]!).pid)!;
      await stopProcess(victim, 'SIGKILL');

      if (t.database.kind === 'postgres')
        await waitFor(
          async () => (await liveProcesses(t.database)).some((p) => p.scheduler && p.pid !== victim.pid),
          'another worker to lead the scheduler',
          30_000,
        );
      await waitFor(
        async () => (await getCampaignSummary(t.database, 'shared')).status === 'completed',
        'the campaign to complete',
        180_000,
      );

      const ledger = await t.database.db
        .selectFrom('messages')
        .select(['address', 'status'])
        .where('run_id', '=', run!)
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
      expect([...deliveries.values()].every((n) => n === 1)).toBe(true);
      expect(byStatus.sent! + (byStatus.uncertain ?? 0)).toBe(RECIPIENTS);
      // The two left stop gracefully, handing back what they hold.
      const survivors = workers.filter((w) => w !== victim);
      expect(await Promise.all(survivors.map((w) => stopProcess(w, 'SIGTERM')))).toEqual([0, 0]);
      process.stdout.write(`scale-out (${t.database.kind}): ${JSON.stringify(byStatus)}\n`);
    },
  );
});
