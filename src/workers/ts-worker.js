// Entry point of every worker thread Baton starts. Loader hooks registered in the parent thread do not
// reach a worker, so this plain-JS file registers tsx here before loading the worker's TypeScript module
// (named in workerData.module); it works the same under `npm start`, `npx baton` and the test runner.
import { workerData } from 'node:worker_threads';
import { register } from 'tsx/esm/api';

register();
await import(workerData.module);
