import type { Database } from '../db/database.ts';
import { Engine, type EngineOptions, type StartedRun } from './engine.ts';

/**
 * Starts one run with an engine of its own, closed when the run settles: for the CLI, the benchmarks
 * and tests, which run a campaign and wait for it. A server keeps one Engine for all its runs.
 */
export async function startRun(
  database: Database,
  campaignId: string,
  options: EngineOptions & { mode?: 'test' | 'live'; now?: number } = {},
): Promise<StartedRun> {
  const engine = new Engine(database, options);
  try {
    const started = await engine.start(campaignId, { mode: options.mode, now: options.now });
    return { run: started.run, finished: started.finished.finally(() => engine.close()) };
  } catch (error) {
    await engine.close();
    throw error;
  }
}
