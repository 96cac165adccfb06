import { loadConfig, type BatonConfig } from '../config.ts';
import { openDatabase, type Database } from '../db/database.ts';

/** Opens the configured database for one command and always closes it. */
export async function withDatabase<T>(
  work: (database: Database, config: BatonConfig) => Promise<T>,
): Promise<T> {
  const config = loadConfig();
  const database = await openDatabase(config, { readInWorker: false });
  try {
    return await work(database, config);
  } finally {
    await database.close();
  }
}
