import { beforeAll, describe, expect, it } from 'vitest';
import { checkRule } from '../../src/rules/check-rule.ts';
import { countRule, ruleSqlText } from '../../src/rules/rule-service.ts';
import { deleteFilter, filterRequest, getFilter, listFilters } from '../../src/rules/saved-filters.ts';
import { erSummary } from '../../src/schema/er-summary.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';
import { findTable } from '../../src/schema/types.ts';
import { describeEachDatabase, type TestDatabase } from '../helpers/databases.ts';
import { HARNESS_NOW, loadDataset } from '../helpers/expressions.ts';
import { sqlRuleIds } from '../helpers/rules.ts';
import { runCampaign } from '../helpers/runs.ts';

/**
 * Retargeting rules over the system links `messages` and `events`, on ledger and event rows written
 * directly. "Now" is HARNESS_NOW (2026-11-28 10:15 UTC), so DaysAgo(2) is 2026-11-26 00:00 UTC.
 *
 * Campaign spring: run r1 (version 1) sent email1 to people 1–5, run r2 (version 2) email1 to 6 (excluded)
 * and 9, and email2 to 4. Campaign autumn: run r3 sent to 6 and 7.
 *
 * | person | spring message                 | events                                                        |
 * |--------|--------------------------------|---------------------------------------------------------------|
 * | 1      | delivered                      | human click 11-27, machine click 11-27                        |
 * | 2      | delivered                      | machine click 11-27, machine open 11-27 (a scanner, MPP)      |
 * | 3      | delivered                      | human click 11-20, unsubscribe 11-21                          |
 * | 4      | sent (no receipt), by email2   | human open 11-28                                              |
 * | 5      | bounced (never sent)           | bounce 11-25 23:59:59.999                                     |
 * | 6      | excluded; autumn sent          | autumn open at 11-26 00:00:00.000 exactly                     |
 * | 7      | —; autumn delivered            | autumn click and unsubscribe 11-28                            |
 * | 8      | —                              | —                                                             |
 * | 9      | delivered                      | human clicks 11-27 and 11-28                                  |
 */
const SCHEMA = parseSchemaText(`
tables:
  people:
    primaryKey: id
    columns: { id: integer, email: string, name: string }
    targeting: { email: email }
    links:
      orders: { table: orders, cardinality: one-to-many, on: { id: person_id } }
  orders:
    primaryKey: id
    columns: { id: integer, person_id: integer, amount: decimal }
  members:
    primaryKey: code
    columns: { code: string, phone: string }
    targeting: { sms: phone }
`);

const PEOPLE = [1, 2, 3, 4, 5, 6, 7, 8, 9].map((id) => ({ id, email: `p${id}@example.com`, name: `P${id}` }));

interface MessageRow {
  id: string;
  run: string;
  campaign: string;
  activity?: string;
  recipient: string;
  status: string;
  sent?: string;
  delivered?: string;
  channel?: string;
}

const MESSAGES: MessageRow[] = [
  {
    id: 'm1',
    run: 'r1',
    campaign: 'spring',
    recipient: '1',
    status: 'sent',
    sent: '2026-11-25T09:00:00.000Z',
    delivered: '2026-11-25T09:00:05.000Z',
  },
  {
    id: 'm2',
    run: 'r1',
    campaign: 'spring',
    recipient: '2',
    status: 'sent',
    sent: '2026-11-25T09:00:00.000Z',
    delivered: '2026-11-25T09:00:06.000Z',
  },
  {
    id: 'm3',
    run: 'r1',
    campaign: 'spring',
    recipient: '3',
    status: 'sent',
    sent: '2026-11-19T09:00:00.000Z',
    delivered: '2026-11-19T09:00:06.000Z',
  },
  {
    id: 'm4',
    run: 'r2',
    campaign: 'spring',
    activity: 'email2',
    recipient: '4',
    status: 'sent',
    sent: '2026-11-27T09:00:00.000Z',
  },
  { id: 'm5', run: 'r1', campaign: 'spring', recipient: '5', status: 'bounced' },
  { id: 'm6', run: 'r2', campaign: 'spring', recipient: '6', status: 'excluded' },
  {
    id: 'm9',
    run: 'r2',
    campaign: 'spring',
    recipient: '9',
    status: 'sent',
    sent: '2026-11-26T09:00:00.000Z',
    delivered: '2026-11-26T09:00:01.000Z',
  },
  {
    id: 'a6',
    run: 'r3',
    campaign: 'autumn',
    recipient: '6',
    status: 'sent',
    sent: '2026-11-25T08:00:00.000Z',
  },
  {
    id: 'a7',
    run: 'r3',
    campaign: 'autumn',
    recipient: '7',
    status: 'sent',
    sent: '2026-11-25T08:00:00.000Z',
    delivered: '2026-11-25T08:01:00.000Z',
  },
  // A member of the string-keyed dimension whose key is also a person's id: each dimension sees its own.
  {
    id: 's1',
    run: 'r3',
    campaign: 'autumn',
    recipient: 'M-1',
    status: 'sent',
    channel: 'sms',
    sent: '2026-11-25T08:00:00.000Z',
  },
];

const EVENTS: Array<{ message: string; type: string; at: string; human?: boolean }> = [
  { message: 'm1', type: 'click', at: '2026-11-27T12:00:00.000Z' },
  { message: 'm1', type: 'click', at: '2026-11-27T12:00:01.000Z', human: false },
  { message: 'm2', type: 'click', at: '2026-11-27T08:00:00.000Z', human: false },
  { message: 'm2', type: 'open', at: '2026-11-27T08:00:00.000Z', human: false },
  { message: 'm3', type: 'click', at: '2026-11-20T10:00:00.000Z' },
  { message: 'm3', type: 'unsubscribe', at: '2026-11-21T10:00:00.000Z' },
  { message: 'm4', type: 'open', at: '2026-11-28T08:00:00.000Z' },
  { message: 'm5', type: 'bounce', at: '2026-11-25T23:59:59.999Z' },
  { message: 'a6', type: 'open', at: '2026-11-26T00:00:00.000Z' },
  { message: 'a7', type: 'click', at: '2026-11-28T07:00:00.000Z' },
  { message: 'a7', type: 'unsubscribe', at: '2026-11-28T07:01:00.000Z' },
  { message: 'm9', type: 'click', at: '2026-11-27T10:00:00.000Z' },
  { message: 'm9', type: 'click', at: '2026-11-28T10:00:00.000Z' },
];

async function loadLedger(t: TestDatabase): Promise<void> {
  await loadDataset(t, SCHEMA, { people: PEOPLE, members: [{ code: 'M-1', phone: '+15550100' }] });
  const { db, dialect } = t.database;
  await db
    .insertInto('runs')
    .values(
      (
        [
          ['r1', 'spring', 1],
          ['r2', 'spring', 2],
          ['r3', 'autumn', 1],
        ] as const
      ).map(([id, campaign, version]) => ({
        id,
        campaign_id: campaign,
        mode: 'live',
        trigger: 'manual',
        status: 'done',
        document: '{}',
        now_ms: HARNESS_NOW,
        started_at: '2026-11-19T08:00:00.000Z',
        version,
      })),
    )
    .execute();
  const byId = new Map(MESSAGES.map((m) => [m.id, m]));
  await db
    .insertInto('messages')
    .values(
      MESSAGES.map((m, i) => ({
        id: m.id,
        run_id: m.run,
        activity: m.activity ?? 'email1',
        campaign_id: m.campaign,
        channel: m.channel ?? 'email',
        recipient: m.recipient,
        address: `${m.recipient}@example.com`,
        position: i,
        status: m.status,
        reason: m.status === 'excluded' ? 'unsubscribed' : null,
        queued_at: '2026-11-19T08:00:00.000Z',
        sent_at: m.sent ?? null,
        delivered_at: m.delivered ?? null,
        updated_at: '2026-11-19T08:00:00.000Z',
      })),
    )
    .execute();
  await db
    .insertInto('events')
    .values(
      EVENTS.map((e, i) => {
        const message = byId.get(e.message)!;
        return {
          id: `e${i}`,
          message_id: message.id,
          recipient: message.recipient,
          campaign_id: message.campaign,
          activity: message.activity ?? 'email1',
          run_id: message.run,
          channel: message.channel ?? 'email',
          type: e.type,
          link: e.type === 'click' ? 0 : null,
          url: e.type === 'click' ? 'https://example.com/sale' : null,
          human: dialect.storedBoolean(e.human ?? true),
          machine_reason: e.human === false ? 'scanner' : null,
          at: e.at,
        };
      }),
    )
    .execute();
}

const spring = { field: 'campaign', op: 'eq', value: 'spring' };
const feedback = (parameters: Record<string, unknown>) => ({
  filter: 'campaign-feedback',
  parameters: { campaign: 'spring', ...parameters },
});

describeEachDatabase('retargeting through the system links', (t) => {
  beforeAll(() => loadLedger(t));

  const ids = (rule: unknown, parameters?: Record<string, unknown>) =>
    sqlRuleIds(t, { dimension: 'people', rule, parameters });

  it('selects recipients by their messages: campaign, status, version, activity, times', async () => {
    // A delivery receipt turns `sent` into `delivered`.
    expect(
      await ids({
        exists: 'messages',
        where: { and: [spring, { field: 'status', op: 'eq', value: 'sent' }] },
      }),
    ).toEqual([4]);
    expect(
      await ids({
        exists: 'messages',
        where: { and: [spring, { field: 'status', op: 'in', value: ['sent', 'delivered'] }] },
      }),
    ).toEqual([1, 2, 3, 4, 9]);
    expect(await ids({ exists: 'messages', where: { field: 'version', op: 'eq', value: 2 } })).toEqual([
      4, 6, 9,
    ]);
    expect(
      await ids({ exists: 'messages', where: { field: 'activity', op: 'eq', value: 'email2' } }),
    ).toEqual([4]);
    expect(await ids({ notExists: 'messages' })).toEqual([8]);
    expect(
      await ids({ exists: 'messages', where: { field: 'sent_at', op: 'lt', value: '2026-11-25T09:00:00Z' } }),
    ).toEqual([3, 6, 7]);
    expect(
      await ids({
        exists: 'messages',
        where: { field: 'delivered_at', op: 'gte', value: { expr: 'DaysAgo(2)' } },
      }),
    ).toEqual([9]);
    expect(
      await ids({ exists: 'messages', where: { field: 'reason', op: 'eq', value: 'unsubscribed' } }),
    ).toEqual([6]);
  });

  it('compares event times with DaysAgo on the ledger text and timestamptz alike, boundary included', async () => {
    // Human events since 2026-11-26 00:00: person 6's open at that very instant counts, 5's a millisecond
    // earlier does not.
    expect(
      await ids({ exists: 'events', where: { field: 'at', op: 'gte', value: { expr: 'DaysAgo(2)' } } }),
    ).toEqual([1, 4, 6, 7, 9]);
    expect(
      await ids({ exists: 'events', where: { field: 'at', op: 'lt', value: '2026-11-26T00:00:00Z' } }),
    ).toEqual([3, 5]);
    expect(
      await ids({ exists: 'events', where: { expr: 'DaysDiff(at, GetDate())', op: 'eq', value: 0 } }),
    ).toEqual([4, 7, 9]);
  });

  it('targets the delivered who made no human click in the last 2 days', async () => {
    const rule = {
      and: [
        { exists: 'messages', where: { and: [spring, { field: 'status', op: 'eq', value: 'delivered' }] } },
        {
          notExists: 'events',
          where: {
            and: [
              spring,
              { field: 'type', op: 'eq', value: 'click' },
              { field: 'at', op: 'gte', value: { expr: 'DaysAgo(2)' } },
            ],
          },
        },
      ],
    };
    // 2 was only clicked by a scanner; 3 clicked 8 days ago.
    expect(await ids(rule)).toEqual([2, 3]);
    expect(await countRule(t.database, { dimension: 'people', rule, now: HARNESS_NOW })).toBe(2);
  });

  it('counts human events only, unless the rule names human', async () => {
    const opens = { field: 'type', op: 'eq', value: 'open' };
    expect(await ids({ notExists: 'events', where: opens })).toEqual([1, 2, 3, 5, 7, 8, 9]);
    expect(
      await ids({
        notExists: 'events',
        where: { and: [opens, { field: 'human', op: 'in', value: [true, false] }] },
      }),
    ).toEqual([1, 3, 5, 7, 8, 9]);
    expect(await ids({ exists: 'events', where: { field: 'human', op: 'eq', value: false } })).toEqual([
      1, 2,
    ]);
    expect(
      await ids({ exists: 'events', where: { expr: "Iif(human, 'h', 'm')", op: 'eq', value: 'm' } }),
    ).toEqual([1, 2]);
    // Without a where, too.
    expect(await ids({ exists: 'events' })).toEqual([1, 3, 4, 5, 6, 7, 9]);
  });

  it('aggregates events: two clicks or more, human ones by default', async () => {
    const clicks = { field: 'type', op: 'eq', value: 'click' };
    const twoClicks = (where: unknown) => ({ aggregate: 'count', of: 'events', where, op: 'gte', value: 2 });
    expect(await ids(twoClicks(clicks))).toEqual([9]);
    expect(
      await ids(twoClicks({ and: [clicks, { field: 'human', op: 'in', value: [true, false] }] })),
    ).toEqual([1, 9]);
    // Zero clicks passes `lt 1`: the aggregate's groups are turned around, with no events at all included.
    expect(await ids({ aggregate: 'count', of: 'events', where: clicks, op: 'lt', value: 1 })).toEqual([
      2, 4, 5, 6, 8,
    ]);
    expect(await ids({ aggregate: 'max', of: 'messages.attempts', op: 'eq', value: 0 })).toEqual([
      1, 2, 3, 4, 5, 6, 7, 9,
    ]);
    // In expressions too: 1 has one human click and one machine click.
    expect(await ids({ expr: 'Count(events)', op: 'gte', value: 2 })).toEqual([3, 7, 9]);
    expect(await ids({ expr: 'Max(events.at)', op: 'gte', value: { expr: 'DaysAgo(0)' } })).toEqual([
      4, 7, 9,
    ]);
  });

  it('applies campaign-feedback for each behaviour', async () => {
    const cases: Array<[Record<string, unknown>, number[]]> = [
      [{ behaviour: 'sent' }, [1, 2, 3, 4, 9]],
      [{ behaviour: 'sent', activity: 'email1' }, [1, 2, 3, 9]],
      [{ behaviour: 'sent', withinDays: 2 }, [4, 9]],
      [{ behaviour: 'delivered' }, [1, 2, 3, 9]],
      [{ behaviour: 'bounced' }, [5]],
      // A click counts as an open; 2's open and click were a machine's.
      [{ behaviour: 'opened' }, [1, 3, 4, 9]],
      [{ behaviour: 'opened', includeMachine: true }, [1, 2, 3, 4, 9]],
      [{ behaviour: 'clicked' }, [1, 3, 9]],
      [{ behaviour: 'clicked', withinDays: 2 }, [1, 9]],
      [{ behaviour: 'not-opened' }, [2]],
      [{ behaviour: 'not-opened', includeMachine: true }, []],
      [{ behaviour: 'not-clicked' }, [2, 4]],
      [{ behaviour: 'not-clicked', activity: 'email1' }, [2]],
      [{ behaviour: 'unsubscribed' }, [3]],
      [{ behaviour: 'unsubscribed', withinDays: 2 }, []],
      [{ behaviour: 'unsubscribed', campaign: 'autumn' }, [7]],
    ];
    for (const [parameters, expected] of cases) {
      expect(await ids(feedback(parameters)), JSON.stringify(parameters)).toEqual(expected);
    }
    // Inside a larger rule, like any condition.
    expect(
      await ids({ except: [feedback({ behaviour: 'sent' }), feedback({ behaviour: 'clicked' })] }),
    ).toEqual([2, 4]);
  });

  it('reads campaign @this from the run variable _campaign', async () => {
    const rule = feedback({ behaviour: 'unsubscribed', campaign: '@this' });
    expect(await ids(rule, { _campaign: 'autumn' })).toEqual([7]);
    await expect(ids(rule)).rejects.toThrow(/_campaign/);
  });

  it('applies the built-in filter through the saved-filter API, read-only', async () => {
    const request = await filterRequest(
      t.database,
      'campaign-feedback',
      {
        behaviour: 'not-clicked',
        campaign: 'spring',
      },
      'people',
    );
    expect(await countRule(t.database, { ...request, now: HARNESS_NOW })).toBe(2);
    // Two targeting dimensions: the filter needs to be told which.
    await expect(filterRequest(t.database, 'campaign-feedback', { behaviour: 'sent' })).rejects.toThrow(
      /Name the dimension .*people, members/,
    );
    const members = await filterRequest(
      t.database,
      'campaign-feedback',
      { behaviour: 'sent', campaign: 'autumn' },
      'members',
    );
    expect(await countRule(t.database, { ...members, now: HARNESS_NOW })).toBe(1);
    const listed = await listFilters(t.database, { dimension: 'people' });
    expect(listed[0]).toMatchObject({ id: 'campaign-feedback', builtIn: true, dimension: null });
    expect(await listFilters(t.database, { dimension: 'orders' })).toEqual([]);
    expect((await getFilter(t.database, 'campaign-feedback')).parameters.map((p) => p.name)).toEqual([
      'behaviour',
      'campaign',
      'activity',
      'withinDays',
      'includeMachine',
    ]);
    await expect(deleteFilter(t.database, 'campaign-feedback')).rejects.toThrow(/built in/);
  });

  it('matches recipients by their key as text, against a set computed once', async () => {
    const { sql } = await ruleSqlText(t.database, { dimension: 'people', rule: { exists: 'events' } });
    expect(sql).toContain('CAST("t0"."id" AS TEXT)');
    expect(sql).toContain('FROM events AS e');
    expect(sql).toContain('CAST("t0"."id" AS TEXT) IN (SELECT');
  });

  it('runs a retargeting campaign whose audience is the filter', async () => {
    const { ids: of } = await runCampaign(t, 'spring-followup', {
      'non-clickers': {
        type: 'build-audience',
        dimension: 'people',
        rule: {
          and: [
            feedback({ behaviour: 'delivered' }),
            {
              notExists: 'events',
              where: {
                and: [
                  spring,
                  { field: 'type', op: 'eq', value: 'click' },
                  { field: 'at', op: 'gte', value: { expr: 'DaysAgo(2)' } },
                ],
              },
            },
          ],
        },
      },
      feedback: { type: 'build-audience', dimension: 'people', rule: feedback({ behaviour: 'not-clicked' }) },
    });
    expect(await of('non-clickers')).toEqual([2, 3]);
    expect(await of('feedback')).toEqual([2, 4]);
  });

  it('enriches with event aggregates and lines: human events by default, all when the filter names human', async () => {
    const clicks = { field: 'type', op: 'eq', value: 'click' };
    const { rows } = await runCampaign(t, 'click-counts', {
      people: {
        type: 'build-audience',
        dimension: 'people',
        rule: { field: 'id', op: 'in', value: [1, 2, 9] },
      },
      counted: {
        type: 'enrich',
        input: 'people',
        collections: [
          {
            name: 'human',
            link: 'events',
            filter: clicks,
            aggregates: [{ name: 'human_clicks', fn: 'count' }],
          },
          {
            name: 'every',
            link: 'events',
            filter: { and: [clicks, { field: 'human', op: 'in', value: [true, false] }] },
            aggregates: [{ name: 'all_clicks', fn: 'count' }],
            lines: 2,
            columns: ['human'],
            sort: [{ field: 'human', order: 'asc' }],
          },
        ],
      },
    });
    const counted = (await rows('counted')).map((r) => [
      r.id,
      Number(r.human_clicks),
      Number(r.all_clicks),
      r.every_1_human === null ? null : Boolean(r.every_1_human),
    ]);
    // 1: a human and a machine click; 2: a scanner's click only; 9: two human clicks.
    expect(counted).toEqual([
      [1, 1, 2, false],
      [2, 0, 1, false],
      [9, 2, 2, true],
    ]);
  });

  it("reads @this as the run's own campaign in a campaign run", async () => {
    // The campaign is `autumn`: its unsubscribers, without naming it.
    const { ids: of } = await runCampaign(t, 'autumn', {
      left: {
        type: 'build-audience',
        dimension: 'people',
        rule: feedback({ behaviour: 'unsubscribed', campaign: '@this' }),
      },
    });
    expect(await of('left')).toEqual([7]);
  });
});

describe('system links in the schema', () => {
  const people = findTable(SCHEMA, 'people')!;
  const problems = (rule: unknown) => {
    try {
      checkRule(SCHEMA, people, rule);
      return [];
    } catch (error) {
      return (error as { issues: Array<{ path: string; message: string }> }).issues.map(
        (i) => `${i.path}: ${i.message}`,
      );
    }
  };

  it('are links of targeting dimensions only, with the columns of DESIGN.md', () => {
    expect(
      problems({
        and: [
          { field: 'messages.status', op: 'eq', value: 'sent' },
          { exists: 'events', where: { field: 'recipient', op: 'eq', value: '1' } },
          { exists: 'messages', where: { field: 'status', op: 'eq', value: 3 } },
          { filter: 'campaign-feedback', parameters: { behaviour: 'read', withinDays: -1 } },
          { filter: 'campaign-feedback', parameters: { behaviour: 'bounced', campaign: 'x', withinDays: 3 } },
          { filter: 'big-spenders' },
        ],
      }),
    ).toEqual([
      'rule.and[0].field: "messages" is a one-to-many link of people: use exists / notExists or an aggregate over it',
      'rule.and[1].where.field: events has no column "recipient"',
      'rule.and[2].where.value: expected text, got 3',
      'rule.and[3].parameters.behaviour: expected one of sent, delivered, bounced, opened, clicked, not-opened, not-clicked, unsubscribed',
      'rule.and[3].parameters.campaign: give it a value',
      'rule.and[3].parameters.withinDays: expected a whole number of days, 0 to 36500',
      'rule.and[4].parameters.withinDays: bounced takes no withinDays: the ledger does not record when a message was refused',
      'rule.and[5].filter: a rule can name the built-in filters (campaign-feedback); apply a saved filter by its id instead of a rule',
    ]);
    const orders = findTable(SCHEMA, 'orders')!;
    expect(() => checkRule(SCHEMA, orders, { exists: 'messages' })).toThrow(/orders has no link "messages"/);
    expect(() => checkRule(SCHEMA, orders, { filter: 'campaign-feedback' })).toThrow(
      /not a targeting dimension/,
    );
  });

  it('are refused as names of user links', () => {
    expect(() =>
      parseSchemaText(`
tables:
  a:
    primaryKey: id
    columns: { id: integer }
    links: { events: { table: a, cardinality: one-to-many, on: { id: id } } }
`),
    ).toThrow(/"events" is reserved for the system link to the tracking events/);
  });

  it('are described for the schema page', () => {
    const summary = erSummary(SCHEMA);
    expect(summary.tables.find((x) => x.name === 'people')!.systemLinks).toEqual(['messages', 'events']);
    expect(summary.tables.find((x) => x.name === 'orders')!.systemLinks).toEqual([]);
    expect(summary.systemTables.map((x) => [x.name, x.columns.map((c) => c.name)])).toEqual([
      [
        'messages',
        [
          'id',
          'campaign',
          'version',
          'run',
          'activity',
          'channel',
          'address',
          'status',
          'reason',
          'attempts',
          'sent_at',
          'delivered_at',
        ],
      ],
      [
        'events',
        ['id', 'message', 'campaign', 'activity', 'run', 'channel', 'type', 'link', 'url', 'human', 'at'],
      ],
    ]);
    expect(summary.systemTables[1]!.columns.find((c) => c.name === 'human')!.type).toBe('boolean');
  });
});
