import { parentPort, workerData } from 'node:worker_threads';
import type { WriteRequest, WriteResponse } from './event-write-thread.ts';
import { openEventStore, type EventStoreLocation } from './event-store.ts';

/**
 * Writes tracking events and their roll-ups on a connection of its own (event-store.ts), so that the
 * server's event loop answers opens and clicks while a batch is inserted. Requests are written one after
 * the other, in the order they came; `close` ends the thread once they are all answered.
 */
const port = parentPort!;
const store = openEventStore((workerData as { data: EventStoreLocation }).data);
let queue = Promise.resolve();

async function write(request: WriteRequest): Promise<WriteResponse> {
  try {
    await store.write(request.batch, request.waitForLock);
    return { id: request.id };
  } catch (error) {
    const { message, code } = error as { message: string; code?: string };
    return { id: request.id, error: { message, code } };
  }
}

port.on('message', (request: WriteRequest | 'close') => {
  queue = queue.then(async () => {
    if (request !== 'close') return port.postMessage(await write(request));
    await store.close();
    port.close();
  });
});
