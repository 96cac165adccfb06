import { afterAll, beforeAll, expect, it } from 'vitest';
import { saveCampaign } from '../../src/campaigns/store.ts';
import { listOutbox } from '../../src/channels/outbox/store.ts';
import { createProviders, type ChannelProviders } from '../../src/channels/providers/registry.ts';
import { loadConfig } from '../../src/config.ts';
import { LedgerComposer } from '../../src/delivery/composer.ts';
import { ledgerCounts } from '../../src/delivery/queue.ts';
import { Sender } from '../../src/delivery/sender.ts';
import { Engine } from '../../src/engine/engine.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { TokenSigner } from '../../src/tracking/tokens.ts';
import { describeEachDatabase } from '../helpers/databases.ts';
import { loadDataset } from '../helpers/expressions.ts';

/**
 * A live SMS send through the simulator (the outbox): numbers normalised to E.164, a number that is not
 * one excluded when rendered, the text personalised, and the provider's rate (SMS_RATE) holding every
 * sender: 250 messages at 100 a second take at least 1.5 s after the first second's burst.
 */
const SCHEMA = parseSchemaText(`
tables:
  people:
    primaryKey: id
    columns: { id: integer, name: string, phone: string }
    targeting:
      sms: { address: phone }
`);
const COUNT = 250;
/** Recipient n's mobile number: 8 digits after +33 6. */
const digits = (n: number) => String(12_000_000 + n);
const PEOPLE = Array.from({ length: COUNT }, (_, i) => {
  const d = digits(i + 1);
  // Row 1's is not a number at all; the others are written nationally (spaced) or in E.164.
  const phone =
    i === 0
      ? '+33 1'
      : i % 2
        ? `06 ${d.slice(0, 2)} ${d.slice(2, 4)} ${d.slice(4, 6)} ${d.slice(6)}`
        : `+336${d}`;
  return { id: i + 1, name: `P${i + 1}`, phone };
});

describeEachDatabase('sms delivery', (t) => {
  let providers: ChannelProviders;
  beforeAll(async () => {
    await loadDataset(t, SCHEMA, { people: PEOPLE });
    await saveCampaign(t.database, {
      id: 'texts',
      name: 'Texts',
      activities: {
        everyone: { type: 'build-audience', dimension: 'people' },
        text: {
          type: 'sms',
          input: 'everyone',
          text: 'Hi {{ profile.name }}: 20% off today',
          tracking: false,
          defaultCountry: 'FR',
        },
      },
    });
    providers = createProviders(
      loadConfig({ BATON_DATA_DIR: t.config.dataDir }, t.config.dataDir),
      t.database,
    );
  });
  afterAll(() => providers.close());

  it(
    'sends through the simulator at the provider’s rate, excluding a number that is not one',
    { timeout: 30_000 },
    async () => {
      const engine = new Engine(t.database);
      const { run, finished } = await engine.start('texts', { mode: 'live' });
      expect((await finished).status).toBe('waiting');
      await engine.close();
      const sender = new Sender(t.database, {
        owner: 'sms-test',
        composer: new LedgerComposer(t.database, {
          providers,
          signer: new TokenSigner({ current: { id: 0, secret: 'k'.repeat(40) }, previous: [] }),
          publicUrl: 'https://t.example',
          providerRates: { sms: 100 },
        }),
      });
      const started = Date.now();
      await sender.drain();
      const elapsed = Date.now() - started;
      expect(elapsed).toBeGreaterThanOrEqual(1_400);
      expect((await ledgerCounts(t.database, run, 'text')).byStatus).toEqual({
        sent: COUNT - 1,
        excluded: 1,
      });
      const excluded = await t.database.db
        .selectFrom('messages')
        .select(['recipient', 'reason'])
        .where('run_id', '=', run)
        .where('status', '=', 'excluded')
        .execute();
      expect(excluded).toEqual([{ recipient: '1', reason: 'malformed-address' }]);
      const outbox = await listOutbox(t.database, { channel: 'sms', limit: 1000, offset: 0 });
      expect(outbox.total).toBe(COUNT - 1);
      // Every number in E.164, whichever way it was written.
      expect(outbox.messages.map((m) => m.recipient).sort()).toEqual(
        PEOPLE.slice(1)
          .map((p) => `+336${digits(p.id)}`)
          .sort(),
      );
    },
  );
});
