import { spawn } from 'node:child_process';

/**
 * The counting SMTP sink of smtp-sink-process.ts in a process of its own (so the benchmarks measure the
 * senders, not the receiving side): its URL, how many messages it accepted so far, and a stop.
 */
export async function startSink(): Promise<{ url: string; count: () => Promise<number>; stop: () => void }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'bench/smtp-sink-process.ts'], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  child.stdout.setEncoding('utf8');
  const lines: string[] = [];
  let waiting: ((line: string) => void) | undefined;
  child.stdout.on('data', (chunk: string) => {
    for (const line of chunk.split('\n').filter(Boolean)) {
      if (waiting) {
        const w = waiting;
        waiting = undefined;
        w(line);
      } else lines.push(line);
    }
  });
  const next = () =>
    lines.length ? Promise.resolve(lines.shift()!) : new Promise<string>((r) => (waiting = r));
  const port = Number((await next()).split(' ')[1]);
  return {
    url: `smtp://127.0.0.1:${port}`,
    count: async () => {
      child.stdin.write('?\n');
      return Number((await next()).split(' ')[1]);
    },
    stop: () => child.kill(),
  };
}
