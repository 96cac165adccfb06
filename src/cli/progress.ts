import cliProgress from 'cli-progress';

/**
 * A progress bar on stderr for long work (imports, the demo load). Only on a terminal: in scripts and CI
 * it stays silent, and the final result says what happened.
 */
export interface ProgressBar {
  update(value: number, total: number, payload?: Record<string, string | number>): void;
  stop(): void;
}

export function createProgressBar(label: string, enabled: boolean, unit = 'rows'): ProgressBar {
  if (!enabled || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${label} |{bar}| {percentage}% | {value}/{total} ${unit} | {rate} ${unit}/s | {detail}`,
      hideCursor: true,
      clearOnComplete: false,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(value, total, payload = {}) {
      if (!started) bar.start(total, 0, { rate: 0, detail: '', ...payload });
      started = true;
      bar.setTotal(total);
      bar.update(value, { rate: 0, detail: '', ...payload });
    },
    stop() {
      if (started) bar.stop();
    },
  };
}
