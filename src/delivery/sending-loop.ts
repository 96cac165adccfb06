import { randomUUID } from 'node:crypto';
import { hostname } from 'node:os';
import { setTimeout as delay } from 'node:timers/promises';
import { createProviders } from '../channels/providers/registry.ts';
import type { BatonConfig } from '../config.ts';
import type { Database } from '../db/database.ts';
import { loadKeyring } from '../tracking/keys.ts';
import { TokenSigner } from '../tracking/tokens.ts';
import { LedgerComposer } from './composer.ts';
import { Sender } from './sender.ts';

/** How long a sender with nothing to send waits before looking again. */
const IDLE_MS = 500;

/**
 * A sender at work until `signal` aborts: it sends whatever is due, then looks again. A batch in flight
 * when the signal comes is finished and recorded before the loop ends, so a graceful stop loses nothing;
 * a process killed mid-batch leaves leases that lapse (see Sender.recoverLapsed).
 */
export async function runSendingLoop(
  database: Database,
  config: BatonConfig,
  signal: AbortSignal,
  onError: (error: unknown) => void = () => {},
): Promise<void> {
  const providers = createProviders(config, database);
  const sender = new Sender(database, {
    owner: `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`,
    leaseMs: config.sendLeaseMs,
    composer: new LedgerComposer(database, {
      providers,
      signer: new TokenSigner(loadKeyring(config)),
      publicUrl: config.publicUrl,
      providerRates: config.providers.rates,
    }),
  });
  try {
    while (!signal.aborted) {
      let sent = 0;
      try {
        sent = await sender.drain();
      } catch (error) {
        onError(error);
      }
      if (sent === 0) await delay(IDLE_MS, undefined, { signal }).catch(() => undefined);
    }
  } finally {
    await providers.close();
  }
}
