import { workerData } from 'node:worker_threads';
import { openDatabase } from '../db/database.ts';
import { systemClock } from './clock.ts';
import { driveRun } from './run-driver.ts';

/**
 * A run executed off the server's event loop: its own connection, its own thread. The run's state is all
 * in the database, so the server reads progress and results as the worker writes them.
 */
const { config, run, concurrency, owner } = (
  workerData as {
    data: {
      config: { dataDir: string; databaseUrl: string | undefined };
      run: string;
      concurrency: number;
      owner: string;
    };
  }
).data;
const database = await openDatabase(config, { migrate: false, readInWorker: false });
try {
  await driveRun(database, run, { owner, clock: systemClock, concurrency });
} finally {
  await database.close();
}
