import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { checkCampaign } from '../../src/campaigns/document.ts';
import { DEMO_SCHEMA_FILE } from '../../src/data/demo/load-demo.ts';
import { parseSchemaText } from '../../src/schema/parse.ts';

const schema = parseSchemaText(readFileSync(DEMO_SCHEMA_FILE, 'utf8'));
const example = parseYaml(
  readFileSync(new URL('../../examples/retail/campaigns/spring-sale.yaml', import.meta.url), 'utf8'),
) as Record<string, unknown> & { activities: Record<string, Record<string, unknown>> };

function problems(document: unknown): string[] {
  try {
    checkCampaign(schema, document);
    return [];
  } catch (error) {
    return (error as { issues: Array<{ path: string; message: string }> }).issues.map(
      (i) => `${i.path}: ${i.message}`,
    );
  }
}

function withActivities(activities: Record<string, unknown>): Record<string, unknown> {
  return { id: 'c', name: 'C', activities };
}

const audience = { type: 'build-audience', dimension: 'profiles' };

describe('campaign documents', () => {
  it('checks the example campaign: order, ports and the population on every transition', () => {
    const checked = checkCampaign(schema, example);
    const order = checked.activities.map((a) => a.id);
    expect(order.indexOf('not-recent')).toBeGreaterThan(order.indexOf('bought-this-week'));
    expect(order.indexOf('mail-gold')).toBeGreaterThan(order.indexOf('by-tier'));
    const split = checked.activities.find((a) => a.id === 'by-tier')!;
    expect(split.outputs.map((o) => o.name)).toEqual(['gold', 'sample', 'complement']);
    expect(
      checked.activities.every(
        (a) => a.population.kind === 'dimension' && a.population.table.name === 'profiles',
      ),
    ).toBe(true);
    // Defaults are filled in the checked config, never in the stored document.
    expect(split.config.overlap).toBe(false);
    expect(checked.document).toBe(example);
  });

  it('names every problem with its path, at once', () => {
    expect(
      problems(
        withActivities({
          a: { ...audience, rule: { field: 'contry', op: 'eq', value: 'IT' } },
          b: { type: 'bulid-audience' },
          c: { type: 'split', input: 'a', segments: [{ label: 'x', limit: { percent: 150 } }], extra: 1 },
          d: { type: 'email', input: 'c.y', subject: 'Hi', html: '<p>x</p>' },
          e: { type: 'deduplicate', input: 'nowhere', fields: [] },
          f: { type: 'combine', mode: 'exclusion', inputs: ['a', 'g'], primary: 'z' },
          g: { type: 'build-audience', dimension: 'purchases' },
          h: { type: 'sms', input: 'g', text: 'x' },
          i: { type: 'wait', input: 'a' },
          j: { type: 'split', segments: [{ label: 's' }] },
        }),
      ),
    ).toEqual([
      expect.stringMatching(
        /^activities.b.type: unknown activity type "bulid-audience" \(known: build-audience, /,
      ),
      'activities.c.segments[0].limit.percent: Too big: expected number to be <=100',
      'activities.c.extra: unknown key "extra" for split',
      'activities.e.fields: Too small: expected array to have >=1 items',
      'activities.i.duration: wait for a duration or until a date, one of the two',
      'activities.j.input: split needs an input: the activity whose population it takes',
      'activities.e.input: no activity nowhere',
      'activities.f.primary: z is not one of the inputs (a, g)',
      'activities.a.rule.field: profiles has no column "contry"',
      'activities.h: purchases is not a targeting dimension; change the dimension to one with sms addresses',
      'activities.f: combine mixes profiles and purchases: its inputs must be rows of one table',
    ]);
    // An output port that does not exist is named, with the ports that do.
    expect(
      problems(
        withActivities({
          a: audience,
          s: { type: 'split', input: 'a', segments: [{ label: 'x' }] },
          m: { type: 'end', input: 's.y' },
        }),
      ),
    ).toEqual(['activities.m.input: s has no output "y"; its outputs: s.x']);
  });

  it('finds cycles, missing starts, and enforces the limits', () => {
    expect(
      problems(
        withActivities({
          a: { type: 'split', input: 'b', segments: [{ label: 's' }] },
          b: { type: 'deduplicate', input: 'a.s', fields: ['email'] },
        }),
      ),
    ).toEqual([
      'activities.a: a is part of a cycle: an activity cannot depend on its own output',
      'activities.b: b is part of a cycle: an activity cannot depend on its own output',
      'activities: the campaign has no starting activity (one without an input, such as build-audience)',
    ]);
    const many = Object.fromEntries(Array.from({ length: 10_000 }, (_, i) => [`a${i}`, audience]));
    const started = performance.now();
    expect(problems(withActivities(many))).toEqual([
      'activities: a campaign holds at most 500 activities; this one has 10000',
    ]);
    expect(performance.now() - started).toBeLessThan(1000);
    const mails = Object.fromEntries(
      Array.from({ length: 11 }, (_, i) => [`m${i}`, { type: 'email', input: 'a', subject: 's', html: 'h' }]),
    );
    expect(problems(withActivities({ a: audience, ...mails }))).toEqual([
      'activities: a campaign holds at most 10 channel activities; this one has 11',
    ]);
  });

  it('refuses documents that are not campaigns, with what is expected', () => {
    expect(problems('DROP TABLE campaigns')).toEqual([
      ': expected a campaign document (id, name, activities…)',
    ]);
    expect(problems({ id: 'Bad Id!', name: '', activities: {}, extra: true })).toEqual([
      'extra: unknown key "extra" (known: id, name, description, tags, schedule, activities, layout)',
      'id: expected an id of lowercase letters, digits, - and _ (at most 100), such as spring-sale',
      'name: give the campaign a name (1 to 200 characters)',
      'activities: a campaign needs activities: a map of activity id → { type, … }',
    ]);
    expect(
      problems({
        ...withActivities({ a: audience }),
        schedule: { frequency: 'hourly' },
        layout: { zz: { x: 1, y: 2 } },
      }),
    ).toEqual([
      'schedule.frequency: expected one of asap, once, daily, several-times-a-day, weekly, monthly, signal',
      'layout.zz: no activity zz',
    ]);
  });

  it('checks channel targets, direct-mail columns and that test conditions name no row fields', () => {
    const mail = { type: 'email', input: 'a', subject: 's', html: 'h' };
    expect(
      problems(
        withActivities({
          a: audience,
          rich: { type: 'enrich', input: 'a', attributes: [{ name: 'age', expr: 'YearsOld(birth_date)' }] },
          m1: { ...mail, perRowOf: 'purchases' },
          m2: { ...mail, perRowOf: 'store' },
          m3: { ...mail, perRowOf: 'visits' },
          dm: {
            type: 'direct-mail',
            input: 'rich',
            columns: ['first_name', 'store.name', 'age', 'store.nope', 'agee'],
          },
          t1: { type: 'test', input: 'a', conditions: [{ label: 'ok', when: 'vars.recCount > 10' }] },
          t2: { type: 'test', input: 'a', conditions: [{ label: 'it', when: "country = 'IT'" }] },
          t3: { type: 'test', input: 'a', conditions: [{ label: 'typo', when: "contry = 'IT'" }] },
        }),
      ),
    ).toEqual([
      'activities.m2.perRowOf: "store" is a many-to-one link: compare its columns directly (store.<column>)',
      'activities.m3.perRowOf: profiles has no link "visits" (one-to-many links: purchases)',
      'activities.dm.columns[3]: stores has no column "nope"',
      'activities.dm.columns[4]: profiles has no column "agee" (nor is it among its columns: age)',
      'activities.dm: profiles has no direct-mail address (targeting: email, sms, push)',
      "activities.t2.conditions[0].when: a test's condition is on the population count and variables (vars.recCount…), not on the fields of its rows (profiles)",
      expect.stringMatching(/^activities.t3.conditions\[0\].when: .*contry/),
    ]);
  });

  it('follows the population of each output: a change of dimension and its unmatched rows', () => {
    const moved = { a: audience, s: { type: 'change-dimension', input: 'a', via: 'store' } };
    expect(
      problems(
        withActivities({ ...moved, m: { type: 'email', input: 's.unmatched', subject: 's', html: 'h' } }),
      ),
    ).toEqual([]);
    expect(
      problems(withActivities({ ...moved, m: { type: 'email', input: 's', subject: 's', html: 'h' } })),
    ).toEqual([
      'activities.m: stores is not a targeting dimension; change the dimension to one with email addresses',
    ]);
  });
});
