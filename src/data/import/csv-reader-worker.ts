import { parentPort, workerData } from 'node:worker_threads';
import { produceBatches, type CsvReaderSetup } from './csv-reader.ts';

/**
 * The import's reading half in a worker thread (for large files): it reads and checks the file while the
 * main thread writes the previous batch, so parsing never waits on the database nor blocks the server.
 */
const port = parentPort!;
let credits = 0;
let wake: (() => void) | undefined;
port.on('message', () => {
  credits++;
  wake?.();
});

void produceBatches(
  (workerData as { data: CsvReaderSetup }).data,
  (message) =>
    port.postMessage(
      message,
      message.type === 'batch'
        ? [message.rows.lines, message.rows.ops, message.rows.bytes].map((a) => a.buffer as ArrayBuffer)
        : [],
    ),
  async () => {
    while (credits <= 0) await new Promise<void>((resolve) => (wake = resolve));
    credits--;
  },
);
