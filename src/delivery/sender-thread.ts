import type { BatonConfig } from '../config.ts';
import { startWorker } from '../workers/start-worker.ts';

/**
 * Starts the sender in a worker thread (sender-worker.ts) and returns how to stop it: after the batch in
 * flight is recorded. A sender thread that dies is started again after a pause, so a bad message or a
 * provider crash never stops sending for good.
 */
export function startSenderThread(
  config: BatonConfig,
  onError: (message: string) => void,
): { stop: () => Promise<void> } {
  let stopping = false;
  let worker = spawn();
  function spawn() {
    const started = startWorker(new URL('./sender-worker.ts', import.meta.url), { config });
    started.on('message', (message: { error?: string }) => {
      if (message.error) onError(message.error);
    });
    started.on('error', (error) => onError(error.message));
    started.on('exit', (code) => {
      if (stopping) return;
      onError(`the sender stopped (exit code ${code}); starting it again in 5 s`);
      setTimeout(() => {
        if (!stopping) worker = spawn();
      }, 5_000).unref();
    });
    return started;
  }
  return {
    async stop() {
      stopping = true;
      const exited = new Promise((resolve) => worker.once('exit', resolve));
      worker.postMessage('stop');
      await exited;
    },
  };
}
