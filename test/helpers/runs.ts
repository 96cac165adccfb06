import { expect } from 'vitest';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { startRun } from '../../src/engine/run-campaign.ts';
import type { RunStatus } from '../../src/engine/run-inspection.ts';
import { transitionRows } from '../../src/engine/run-inspection.ts';
import type { TestDatabase } from './databases.ts';
import { HARNESS_NOW } from './expressions.ts';

/**
 * Saves a campaign of these activities, test-runs it at the harness's "now" and expects it to finish
 * without error; then reads its transitions: their rows, or the ids of their rows in key order.
 */
export async function runCampaign(
  t: TestDatabase,
  id: string,
  activities: Record<string, unknown>,
): Promise<{
  status: RunStatus;
  rows: (transition: string) => Promise<Array<Record<string, unknown>>>;
  ids: (transition: string) => Promise<number[]>;
}> {
  await saveCampaign(t.database, { id, name: id, activities });
  const { run, finished } = await startRun(t.database, id, { now: HARNESS_NOW });
  const status = await finished;
  expect(status.error).toBeNull();
  const rows = async (transition: string) =>
    (await transitionRows(t.database, run, transition, { limit: 1000, offset: 0 })).rows;
  return { status, rows, ids: async (transition) => (await rows(transition)).map((r) => r.id as number) };
}
