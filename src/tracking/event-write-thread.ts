import type { Worker } from 'node:worker_threads';
import { startWorker } from '../workers/start-worker.ts';
import { batchTransferList, type EventBatch } from './event-batch.ts';
import type { EventStoreLocation } from './event-store.ts';

/**
 * The main thread's side of the event-write worker (event-write-worker.ts): started on the first write, and
 * again after it died; idle, it does not keep the process alive. A write resolves once its transaction
 * committed and rejects with the database's error (its `code` kept, SQLITE_BUSY included).
 */
export interface WriteRequest {
  id: number;
  batch: EventBatch;
  waitForLock: boolean;
}

export type WriteResponse = { id: number } | { id: number; error: { message: string; code?: string } };

export class EventWriteThread {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<number, { resolve: () => void; reject: (error: Error) => void }>();

  constructor(private readonly store: EventStoreLocation) {}

  private start(): Worker {
    const worker = startWorker(new URL('./event-write-worker.ts', import.meta.url), this.store);
    worker.on('message', (response: WriteResponse) => {
      const waiting = this.pending.get(response.id);
      this.pending.delete(response.id);
      if (this.pending.size === 0) worker.unref();
      if (!waiting) return;
      if ('error' in response) {
        waiting.reject(Object.assign(new Error(response.error.message), { code: response.error.code }));
      } else waiting.resolve();
    });
    const fail = (error: Error) => {
      if (this.worker === worker) this.worker = undefined;
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('the event-write worker stopped')));
    worker.unref();
    return worker;
  }

  /** The batch's typed arrays are handed over: unusable here afterwards. */
  write(batch: EventBatch, waitForLock: boolean): Promise<void> {
    this.worker ??= this.start();
    const worker = this.worker;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, batch, waitForLock } satisfies WriteRequest, batchTransferList(batch));
    });
  }

  /** Ends the worker after the writes sent to it are answered, closing its connection. */
  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    if (!worker) return;
    const exited = new Promise((resolve) => worker.once('exit', resolve));
    // Kept alive until its connection is closed.
    worker.ref();
    worker.postMessage('close');
    await exited;
  }
}
