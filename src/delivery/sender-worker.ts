import { parentPort, workerData } from 'node:worker_threads';
import type { BatonConfig } from '../config.ts';
import { openDatabase } from '../db/database.ts';
import { runSendingLoop } from './sending-loop.ts';

/**
 * The server's sender, in a thread of its own: rendering and sending thousands of messages a second never
 * stalls HTTP. The parent posts 'stop' to end it after the batch in flight.
 */
const { config } = (workerData as { data: { config: BatonConfig } }).data;
const stop = new AbortController();
parentPort?.on('message', (message) => {
  if (message === 'stop') stop.abort();
});
const database = await openDatabase(config, { migrate: false, readInWorker: false });
try {
  await runSendingLoop(database, config, stop.signal, (error) =>
    parentPort?.postMessage({ error: (error as Error).message }),
  );
} finally {
  await database.close();
  // The message listener would keep the thread alive after the loop: the parent waits for it to exit.
  parentPort?.close();
}
