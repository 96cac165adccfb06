import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { sql } from 'kysely';
import { describe, expect, it } from 'vitest';
import { openSqliteConnection } from '../../src/db/database.ts';
import { EventWriter, type RequestInfo } from '../../src/tracking/event-writer.ts';
import { MessageDirectory, type TrackedMessage } from '../../src/tracking/tracked-messages.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/databases.ts';
import { ledgerRow } from '../helpers/ledger-rows.ts';

/**
 * The event writer on its own: what it buffered reaches the database (through its worker thread) by the
 * time close() returns, in transactions of any size with their roll-ups; a database that refuses a batch
 * leaves the events buffered for the next flush, reported unless it was only busy; closing waits for a
 * database another connection is writing.
 */
const BROWSER: RequestInfo = {
  userAgent:
    'Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0.0.0 Safari/537.36',
  method: 'GET',
};
const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/** A trigger that refuses events with this user agent, as a failing database refuses a batch. */
const REFUSED_AGENT = 'refuse me';

function refusingTrigger(kind: 'sqlite' | 'postgres') {
  return kind === 'sqlite'
    ? {
        create: [
          sql`CREATE TRIGGER refuse_events BEFORE INSERT ON events WHEN NEW.user_agent = ${sql.lit(REFUSED_AGENT)}
            BEGIN SELECT RAISE(ABORT, 'refused for the test'); END`,
        ],
        drop: [sql`DROP TRIGGER refuse_events`],
      }
    : {
        create: [
          sql`CREATE FUNCTION refuse_events() RETURNS trigger LANGUAGE plpgsql
            AS $$ BEGIN RAISE EXCEPTION 'refused for the test'; END $$`,
          sql`CREATE TRIGGER refuse_events BEFORE INSERT ON events FOR EACH ROW
            WHEN (NEW.user_agent = ${sql.lit(REFUSED_AGENT)}) EXECUTE FUNCTION refuse_events()`,
        ],
        drop: [sql`DROP TRIGGER refuse_events ON events`, sql`DROP FUNCTION refuse_events()`],
      };
}

/** Sent messages of one campaign (a minute ago, one link each); their ids. */
async function sentMessages(t: TestDatabase, campaign: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, () => randomUUID());
  const sentAt = new Date(Date.now() - 60_000).toISOString();
  await t.database.db
    .insertInto('messages')
    .values(
      ids.map((id, i) =>
        ledgerRow({
          id,
          run_id: `${campaign}-run`,
          campaign_id: campaign,
          recipient: String(i + 1),
          address: `p${i + 1}@example.test`,
          position: i + 1,
          links: JSON.stringify(['https://shop.example/sale']),
          queued_at: sentAt,
          sent_at: sentAt,
          updated_at: sentAt,
        }),
      ),
    )
    .execute();
  return ids;
}

async function countEvents(t: TestDatabase, campaign: string): Promise<number> {
  const row = await t.database.db
    .selectFrom('events')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('campaign_id', '=', campaign)
    .executeTakeFirstOrThrow();
  return Number(row.n);
}

/** A writer that writes only when told to (flush, close), and the errors it reported. */
function writerOf(t: TestDatabase): { writer: EventWriter; errors: unknown[] } {
  const errors: unknown[] = [];
  const writer = new EventWriter(t.database, {
    flushMs: 60_000,
    maxBatch: 100_000,
    onError: (error) => errors.push(error),
  });
  return { writer, errors };
}

describeEachDatabase('the event writer', (t) => {
  it('writes what it buffered by the time close() returns, in one transaction with its roll-ups', async () => {
    const ids = await sentMessages(t, 'closing', 300);
    const directory = new MessageDirectory(t.database.db);
    const messages = (await Promise.all(ids.slice(0, 50).map((id) => directory.get(id)))).filter(
      (m): m is TrackedMessage => m !== undefined,
    );
    const { writer, errors } = writerOf(t);
    // Not a multiple of any statement size: the rows go in statements of several sizes.
    const opens = 1037;
    for (let i = 0; i < opens; i++) writer.open(ids[i % ids.length]!, BROWSER);
    for (const message of messages) writer.click(message, 0, BROWSER);
    await writer.close();

    expect(errors).toEqual([]);
    expect(await countEvents(t, 'closing')).toBe(opens + messages.length);
    const written = await t.database.db
      .selectFrom('events')
      .select(['id', 'at'])
      .where('campaign_id', '=', 'closing')
      .execute();
    // Time-ordered ids, unique, whose first 48 bits are the event's time.
    expect(new Set(written.map((e) => e.id)).size).toBe(written.length);
    for (const { id, at } of written) {
      expect(id).toMatch(UUID_V7);
      expect(parseInt(id.replaceAll('-', '').slice(0, 12), 16)).toBe(new Date(at).getTime());
    }
    const rolled = await t.database.db
      .selectFrom('report_minutes')
      .select(['type', sql<number>`SUM(events)`.as('events'), sql<number>`SUM(uniques)`.as('uniques')])
      .where('campaign_id', '=', 'closing')
      .groupBy('type')
      .orderBy('type')
      .execute();
    expect(rolled.map((r) => [r.type, Number(r.events), Number(r.uniques)])).toEqual([
      ['click', messages.length, messages.length],
      ['open', opens, ids.length],
    ]);
  });

  it('keeps a batch the database refuses, reports why, and writes it at a later flush', async () => {
    const [id] = await sentMessages(t, 'refused', 1);
    const { writer, errors } = writerOf(t);
    const trigger = refusingTrigger(t.database.kind);
    for (const statement of trigger.create) await statement.execute(t.database.db);
    try {
      writer.open(id!, BROWSER);
      writer.open(id!, { ...BROWSER, userAgent: REFUSED_AGENT });
      await writer.flush();
      // The batch is one transaction: the good event waits with the refused one.
      expect(await countEvents(t, 'refused')).toBe(0);
      expect(errors).toHaveLength(1);
      expect((errors[0] as Error).message).toMatch(/refused for the test/);
    } finally {
      for (const statement of trigger.drop) await statement.execute(t.database.db);
    }
    await writer.flush();
    expect(await countEvents(t, 'refused')).toBe(2);
    expect(errors).toHaveLength(1);
    await writer.close();
  });

  describe('on SQLite, while another connection is writing', () => {
    /**
     * A writer that has written one event of a sent message (so its thread is running), then another
     * connection holding the write lock until the test commits it.
     */
    async function lockedOut(campaign: string) {
      const [id] = await sentMessages(t, campaign, 1);
      const { writer, errors } = writerOf(t);
      writer.open(id!, BROWSER);
      await writer.flush();
      const other = openSqliteConnection(t.database.location);
      other.exec('BEGIN IMMEDIATE');
      return { id: id!, writer, errors, other };
    }

    it('leaves the events buffered without an error, and writes them once the database is free', async (context) => {
      if (t.database.kind !== 'sqlite') context.skip();
      const { id, writer, errors, other } = await lockedOut('busy');
      try {
        // More than a retry hands over at first: the rest follows in the same flush.
        for (let i = 0; i < 250; i++) writer.open(id, BROWSER);
        const started = Date.now();
        await writer.flush();
        // Refused at once: the writer does not wait for the lock (closing waits 10 s).
        expect(Date.now() - started).toBeLessThan(2_000);
        other.exec('COMMIT');
        expect(await countEvents(t, 'busy')).toBe(1);
        expect(errors).toEqual([]);
        await writer.flush();
        expect(await countEvents(t, 'busy')).toBe(251);
        expect(errors).toEqual([]);
      } finally {
        other.close();
        await writer.close();
      }
    });

    it('closes once the database is free, with every event written', async (context) => {
      if (t.database.kind !== 'sqlite') context.skip();
      const { id, writer, errors, other } = await lockedOut('busy-close');
      try {
        writer.open(id, BROWSER);
        const closed = writer.close();
        await sleep(300);
        other.exec('COMMIT');
        await closed;
        expect(await countEvents(t, 'busy-close')).toBe(2);
        expect(errors).toEqual([]);
      } finally {
        other.close();
      }
    });
  });
});
