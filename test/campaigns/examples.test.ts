import { readFileSync } from 'node:fs';
import { beforeAll, expect, it } from 'vitest';
import { EXAMPLE_CAMPAIGNS, loadExampleCampaigns } from '../../src/campaigns/examples.ts';
import { loadDemo } from '../../src/data/demo/load-demo.ts';
import { startRun } from '../../src/engine/run-campaign.ts';
import { runLogs, transitionRows } from '../../src/engine/run-inspection.ts';
import { describeEachDatabase } from '../helpers/databases.ts';

/**
 * The example campaigns a newcomer finds in the demo run in test mode on the demo workspace. The VIP
 * example's counts are computed here from its CSV file: the lines whose customer id is a demo profile
 * (ids 1..PROFILES), the lines of other ids, and the one line that is not a number.
 */
const PROFILES = 2_000;
const NOW = Date.parse('2026-11-01T00:00:00Z');
const vipLines = readFileSync(new URL('../../examples/retail/files/vip-list.csv', import.meta.url), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line, i) => ({ line: i + 2, id: Number(line.split(',')[0]) }));

describeEachDatabase('example campaigns', (t) => {
  beforeAll(async () => {
    await loadDemo(t.database, { profiles: PROFILES, asOf: new Date(NOW) });
  });

  it('are saved with the files they load, and run in test mode', async () => {
    expect(await loadExampleCampaigns(t.database)).toEqual(['spring-sale', 'vip-event', 'win-back']);
    // Loading them again leaves what is there alone.
    expect(await loadExampleCampaigns(t.database)).toEqual([]);
    expect(EXAMPLE_CAMPAIGNS.href).toContain('examples/retail/campaigns/');
    for (const id of ['spring-sale', 'vip-event', 'win-back']) {
      const status = await (await startRun(t.database, id, { now: NOW })).finished;
      expect(status, id).toMatchObject({ status: 'done', error: null });
    }
  });

  it('match the VIP file with the customers exactly', async () => {
    const { run, finished } = await startRun(t.database, 'vip-event', { now: NOW });
    const status = await finished;
    const numbers = vipLines.filter((l) => Number.isInteger(l.id));
    const known = numbers.filter((l) => l.id >= 1 && l.id <= PROFILES);
    expect(status.counts).toMatchObject({
      'vip-list': numbers.length,
      known: known.length,
      'known.complement': numbers.length - known.length,
      'last-purchase': known.length,
    });
    const rows = await transitionRows(t.database, run, 'known', { limit: 1000, offset: 0 });
    expect(rows.rows.map((r) => r.id)).toEqual(known.map((l) => l.id).sort((a, b) => a - b));
    expect(status.counts['reachable.by-email']! + status.counts['reachable.complement']!).toBe(known.length);
    const logs = (await runLogs(t.database, run)).map((l) => l.message);
    const rejected = vipLines.filter((l) => !Number.isInteger(l.id));
    expect(logs.find((m) => m.startsWith(`${rejected.length} line(s) rejected`))).toContain(
      `line ${rejected[0]!.line}`,
    );
  });
});
