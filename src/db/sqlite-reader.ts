import type { Worker } from 'node:worker_threads';
import { startWorker } from '../workers/start-worker.ts';

/**
 * The main thread's side of the SQLite read worker (sqlite-read-worker.ts): started on first use, one per
 * open database, stopped when the database closes. Requests are answered in order, one at a time.
 */
export interface ReadRequest {
  id: number;
  sql: string;
  parameters: readonly unknown[];
}

export type ReadResponse =
  | { id: number; rows: Array<Record<string, unknown>> }
  | { id: number; error: { message: string; code?: string } };

export class SqliteReader {
  private worker: Worker | undefined;
  private nextId = 1;
  private readonly pending = new Map<
    number,
    { resolve: (rows: Array<Record<string, unknown>>) => void; reject: (error: Error) => void }
  >();

  constructor(private readonly file: string) {}

  private start(): Worker {
    const worker = startWorker(new URL('./sqlite-read-worker.ts', import.meta.url), { file: this.file });
    worker.on('message', (response: ReadResponse) => {
      const waiting = this.pending.get(response.id);
      this.pending.delete(response.id);
      if (!waiting) return;
      if ('rows' in response) waiting.resolve(response.rows);
      else waiting.reject(Object.assign(new Error(response.error.message), { code: response.error.code }));
    });
    const fail = (error: Error) => {
      for (const waiting of this.pending.values()) waiting.reject(error);
      this.pending.clear();
      this.worker = undefined;
    };
    worker.on('error', fail);
    worker.on('exit', () => fail(new Error('the SQLite read worker stopped')));
    // An idle worker must not keep the process alive.
    worker.unref();
    return worker;
  }

  read(sql: string, parameters: readonly unknown[]): Promise<Array<Record<string, unknown>>> {
    this.worker ??= this.start();
    const id = this.nextId++;
    const worker = this.worker;
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      worker.ref();
      worker.postMessage({ id, sql, parameters } satisfies ReadRequest);
    }).finally(() => {
      if (this.pending.size === 0) this.worker?.unref();
    }) as Promise<Array<Record<string, unknown>>>;
  }

  async close(): Promise<void> {
    const worker = this.worker;
    this.worker = undefined;
    await worker?.terminate();
  }
}
