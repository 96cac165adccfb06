import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { setTimeout as delay } from 'node:timers/promises';
import { expect, it, onTestFinished } from 'vitest';
import { openDatabase } from '../../src/db/database.ts';
import { RateLimiter } from '../../src/delivery/rate-limiter.ts';
import { ROOT } from '../helpers/cli.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/databases.ts';

/**
 * Two senders on two connections of their own (as two processes would be) draw from one bucket: together
 * they take what the rate allows, within 5%: one second's burst, then the rate.
 */
describeEachDatabase('rate limiter', (t) => {
  it('holds two senders together to the rate', { timeout: 30_000 }, async () => {
    const second = await openDatabase(t.config, { migrate: false, readInWorker: false });
    try {
      const rate = 200;
      const limiters = [new RateLimiter(t.database), new RateLimiter(second)];
      const started = Date.now();
      const until = started + 2_500;
      const taken = await Promise.all(
        limiters.map(async (limiter) => {
          let n = 0;
          while (Date.now() < until) n += await limiter.take('test-bucket', rate, 5);
          return n;
        }),
      );
      const elapsed = (Date.now() - started) / 1000;
      const total = taken[0]! + taken[1]!;
      const expected = rate + rate * elapsed;
      expect(Math.abs(total - expected) / expected).toBeLessThan(0.05);
      // Both took a fair share: neither starved.
      expect(Math.min(...taken)).toBeGreaterThan(total / 5);
    } finally {
      await second.close();
    }
  });

  /**
   * The same with the second sender in an OS process of its own (test/helpers/rate-taker-process.ts). Both
   * start at a shared instant and stop at a shared deadline; the child reports its count and when its last
   * take returned. On SQLite both processes write the same WAL file, serialised by the busy timeout.
   */
  it('holds two processes together to the rate', { timeout: 20_000 }, async () => {
    const rate = 200;
    const wanted = 5;
    const bucket = 'process-bucket';
    const child = startTaker(t, { bucket, rate, wanted });
    onTestFinished(() => child.kill());

    await child.ready;
    const start = Date.now() + 200;
    const until = start + 2_500;
    child.go(start, until);
    await delay(start - Date.now());
    const limiter = new RateLimiter(t.database);
    let mine = 0;
    while (Date.now() < until) mine += await limiter.take(bucket, rate, wanted);
    const myEnd = Date.now();
    const theirs = await child.result;

    const elapsed = (Math.max(myEnd, theirs.ended) - start) / 1000;
    const total = mine + theirs.taken;
    const expected = rate + rate * elapsed;
    console.info(
      `rate limiter [${t.database.kind}], 2 processes: took ${total} (${mine} + ${theirs.taken}) ` +
        `in ${elapsed.toFixed(3)} s, expected ${expected.toFixed(1)} ` +
        `(${(((total - expected) / expected) * 100).toFixed(2)}%)`,
    );
    expect(Math.abs(total - expected) / expected).toBeLessThan(0.05);
    // Neither starved. How evenly they share depends on the OS's scheduling of two processes on a busy
    // machine (a CI run measured 19% / 81% once), not on the limiter: a tenth each is the floor asked.
    expect(Math.min(mine, theirs.taken)).toBeGreaterThan(total / 10);
  });
});

interface Taker {
  /** Resolves once the child has opened the database. */
  ready: Promise<void>;
  /** Tells the child when to start and stop taking. */
  go(start: number, until: number): void;
  /** What the child took, and when its last take returned. */
  result: Promise<{ taken: number; ended: number }>;
  /** Kills the child unless it has exited already. */
  kill(): void;
}

/**
 * Spawns test/helpers/rate-taker-process.ts on the test's database. Every wait fails, with the child's
 * stderr, when the child exits early or does not answer in time; `kill` ends it (SIGKILL) whatever state
 * it is in.
 */
function startTaker(t: TestDatabase, job: { bucket: string; rate: number; wanted: number }): Taker {
  const child = spawn(process.execPath, ['--import', 'tsx', 'test/helpers/rate-taker-process.ts'], {
    cwd: ROOT,
    env: { ...process.env, BATON_RATE_TAKER: JSON.stringify({ config: t.config, ...job }) },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  const closed = new Promise<never>((_, reject) => {
    child.once('error', reject);
    child.once('close', (code, signal) =>
      reject(new Error(`rate taker exited (${code ?? signal}) early: ${stderr}`)),
    );
  });
  closed.catch(() => undefined);
  const lines = createInterface({ input: child.stdout })[Symbol.asyncIterator]();

  async function nextLine(what: string, ms: number): Promise<string> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`rate taker: no ${what} in ${ms} ms: ${stderr}`)), ms);
    });
    try {
      const line = await Promise.race([lines.next(), closed, timeout]);
      if (line.done) return await closed;
      return line.value;
    } finally {
      clearTimeout(timer);
    }
  }

  const ready = (async () => {
    const line = await nextLine('ready', 10_000);
    if (line !== 'ready') throw new Error(`rate taker: expected ready, got ${line}`);
  })();
  let until = 0;
  let result: Promise<{ taken: number; ended: number }> | undefined;
  return {
    ready,
    go(start, end) {
      until = end;
      child.stdin.write(`go ${start} ${end}\n`);
    },
    get result() {
      result ??= (async () => {
        const line = await nextLine('result', Math.max(0, until - Date.now()) + 5_000);
        const [word, taken, ended] = line.split(' ');
        if (word !== 'taken') throw new Error(`rate taker: expected its count, got ${line}`);
        return { taken: Number(taken), ended: Number(ended) };
      })();
      return result;
    },
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}
