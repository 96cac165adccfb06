import type { Database } from '../db/database.ts';
import { dropWorkingTable } from './working-tables.ts';

/**
 * Drops the working tables of runs that finished more than `days` ago (DESIGN.md: 5 days by default).
 * Their counts, tasks and logs stay, so a run's history can always be read; only its rows go. Returns the
 * runs purged.
 */
export async function purgeOldRuns(
  database: Database,
  options: { days: number; now?: number },
): Promise<string[]> {
  const cutoff = new Date((options.now ?? Date.now()) - options.days * 86_400_000).toISOString();
  const runs = await database.db
    .selectFrom('runs')
    .select('id')
    .where('purged_at', 'is', null)
    .where('finished_at', 'is not', null)
    .where('finished_at', '<', cutoff)
    .execute();
  for (const { id } of runs) {
    const tables = await database.db
      .selectFrom('run_transitions')
      .select('working_table')
      .distinct()
      .where('run_id', '=', id)
      .execute();
    for (const { working_table } of tables) await dropWorkingTable(database, working_table);
    await database.db
      .updateTable('runs')
      .set({ purged_at: new Date(options.now ?? Date.now()).toISOString() })
      .where('id', '=', id)
      .execute();
  }
  return runs.map((r) => r.id);
}
