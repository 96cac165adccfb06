import { workerData } from 'node:worker_threads';
import { openDatabase } from '../db/database.ts';
import { executeRun } from './run-campaign.ts';

/**
 * A test run executed off the server's event loop: its own connection, its own thread. The run's state is
 * all in the database, so the server reads progress and results as the worker writes them.
 */
const { config, run } = (
  workerData as { data: { config: { dataDir: string; databaseUrl: string | undefined }; run: string } }
).data;
const database = await openDatabase(config, { migrate: false, readInWorker: false });
try {
  await executeRun(database, run);
} finally {
  await database.close();
}
