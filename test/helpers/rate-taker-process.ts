import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { openDatabase } from '../../src/db/database.ts';
import { RateLimiter } from '../../src/delivery/rate-limiter.ts';

/**
 * A second sender drawing from a rate bucket in an OS process of its own (test/delivery/rate-limiter.test.ts).
 *
 * Its job comes as JSON in BATON_RATE_TAKER: `{ config, bucket, rate, wanted }`, `config` being what opens
 * the test's database (`{ dataDir, databaseUrl }`). It opens the database, prints `ready`, waits for
 * `go <startMs> <untilMs>` on stdin, takes tokens from `startMs` until `untilMs`, and prints
 * `taken <count> <endedMs>`.
 *
 * It never outlives the test: it exits when its stdin closes (the test process died) and, whatever happens,
 * after WATCHDOG_MS.
 */
interface Job {
  config: { dataDir: string; databaseUrl: string | undefined };
  bucket: string;
  rate: number;
  wanted: number;
}

const WATCHDOG_MS = 30_000;
setTimeout(() => {
  process.stderr.write(`rate taker: watchdog after ${WATCHDOG_MS} ms\n`);
  process.exit(3);
}, WATCHDOG_MS).unref();

const job = JSON.parse(process.env.BATON_RATE_TAKER ?? 'null') as Job | null;
if (!job) throw new Error('BATON_RATE_TAKER is not set');

const lines = createInterface({ input: process.stdin });
let finished = false;
lines.on('close', () => {
  if (!finished) process.exit(2);
});
const go = new Promise<{ start: number; until: number }>((resolve) => {
  lines.on('line', (line) => {
    const [word, start, until] = line.trim().split(' ');
    if (word === 'go') resolve({ start: Number(start), until: Number(until) });
  });
});

const database = await openDatabase(job.config, { migrate: false, readInWorker: false });
const limiter = new RateLimiter(database);
process.stdout.write('ready\n');
const { start, until } = await go;
await delay(Math.max(0, start - Date.now()));
let taken = 0;
while (Date.now() < until) taken += await limiter.take(job.bucket, job.rate, job.wanted);
const ended = Date.now();
finished = true;
process.stdout.write(`taken ${taken} ${ended}\n`);
await database.close();
process.exit(0);
