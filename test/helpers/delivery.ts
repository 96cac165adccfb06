import { createProviders, type ChannelProviders } from '../../src/channels/providers/registry.ts';
import { loadConfig, type BatonConfig } from '../../src/config.ts';
import { LedgerComposer } from '../../src/delivery/composer.ts';
import { Sender } from '../../src/delivery/sender.ts';
import { Engine } from '../../src/engine/engine.ts';
import { loadKeyring } from '../../src/tracking/keys.ts';
import { TokenSigner } from '../../src/tracking/tokens.ts';
import type { TestDatabase } from './databases.ts';

/**
 * The settings a sending test runs with: the test's database, email to `smtpUrl` (a test sink), a fixed
 * signing secret and tracking links on https://t.example; `settings` adds or overrides variables.
 */
export function deliveryConfig(
  t: TestDatabase,
  smtpUrl: string,
  settings: Record<string, string> = {},
): BatonConfig {
  return loadConfig(
    {
      SMTP_URL: smtpUrl,
      BATON_DATA_DIR: t.config.dataDir,
      BATON_SECRET: 'a'.repeat(40),
      BATON_PUBLIC_URL: 'https://t.example',
      ...(t.config.databaseUrl ? { DATABASE_URL: t.config.databaseUrl } : {}),
      ...settings,
    },
    t.config.dataDir,
  );
}

/** Those settings, with the providers and the token signer a LedgerComposer needs. */
export function deliveryServices(
  t: TestDatabase,
  smtpUrl: string,
): { config: BatonConfig; providers: ChannelProviders; signer: TokenSigner } {
  const config = deliveryConfig(t, smtpUrl);
  return {
    config,
    providers: createProviders(config, t.database),
    signer: new TokenSigner(loadKeyring(config)),
  };
}

/** A live run of the campaign, then every message it queued sent: the run's id. */
export async function sendLive(
  t: TestDatabase,
  campaign: string,
  services: { providers: ChannelProviders; signer: TokenSigner; publicUrl: string },
): Promise<string> {
  const engine = new Engine(t.database);
  const { run, finished } = await engine.start(campaign, { mode: 'live' });
  await finished;
  await engine.close();
  const sender = new Sender(t.database, {
    owner: 'test-sender',
    composer: new LedgerComposer(t.database, services),
  });
  await sender.drain();
  return run;
}
