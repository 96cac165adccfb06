import { Worker } from 'node:worker_threads';

const BOOTSTRAP = new URL('./ts-worker.js', import.meta.url);

/** Starts a worker thread running a TypeScript module of Baton's; `data` reaches it as `workerData.data`. */
export function startWorker(module: URL, data: unknown): Worker {
  return new Worker(BOOTSTRAP, { workerData: { module: module.href, data } });
}
