import type { Issue } from '../errors.ts';
import type { TableDef } from '../schema/types.ts';
import type { Rule, RuleValue } from './rule.ts';
import type { FilterParameter } from './saved-filters.ts';

/**
 * Filters Baton provides, read-only, beside the saved ones: "Campaign feedback" (the reference product's
 * retargeting filter). A rule names one as a condition, `{ filter: campaign-feedback, parameters: {…} }`,
 * and it stands for the exists / notExists rule over the system links that its parameters describe; so
 * it works in any rule (a build-audience's, the API's), on every targeting dimension.
 */
export const CAMPAIGN_FEEDBACK = 'campaign-feedback';

export const BEHAVIOURS = [
  'sent',
  'delivered',
  'bounced',
  'opened',
  'clicked',
  'not-opened',
  'not-clicked',
  'unsubscribed',
] as const;
type Behaviour = (typeof BEHAVIOURS)[number];

/**
 * The campaign a rule runs in, as the value of `campaign`: the run supplies it as the variable
 * THIS_CAMPAIGN_VARIABLE (src/engine/task-context.ts).
 */
export const THIS_CAMPAIGN = '@this';
export const THIS_CAMPAIGN_VARIABLE = '_campaign';

export interface BuiltInFilter {
  id: string;
  label: string;
  description: string;
  parameters: FilterParameter[];
}

export const BUILT_IN_FILTERS: BuiltInFilter[] = [
  {
    id: CAMPAIGN_FEEDBACK,
    label: 'Campaign feedback',
    description:
      'Recipients by their reaction to a campaign: sent, delivered, bounced, opened, clicked, not opened, not clicked, unsubscribed',
    parameters: [
      { name: 'behaviour', type: 'string', label: 'Behaviour', values: [...BEHAVIOURS] },
      { name: 'campaign', type: 'string', label: `Campaign (its id, or ${THIS_CAMPAIGN} for this one)` },
      { name: 'activity', type: 'string', label: 'Channel activity', optional: true },
      { name: 'withinDays', type: 'integer', label: 'Within the last days', optional: true },
      { name: 'includeMachine', type: 'boolean', label: 'Count machine events', default: false },
    ],
  },
];

export function builtInFilter(id: string): BuiltInFilter | undefined {
  return BUILT_IN_FILTERS.find((f) => f.id === id);
}

/** Message statuses of a message that went out. */
const WENT_OUT = ['sent', 'delivered'];
/** A click counts as an open: a reader who blocks images clicks without loading the open pixel. */
const OPENS = ['open', 'click'];

interface FeedbackParameters {
  behaviour: Behaviour;
  campaign: string;
  activity: string | undefined;
  withinDays: number | undefined;
  includeMachine: boolean;
}

function readParameters(raw: unknown): FeedbackParameters | Issue[] {
  const issues: Issue[] = [];
  const values = (typeof raw === 'object' && raw !== null && !Array.isArray(raw) ? raw : {}) as Record<
    string,
    unknown
  >;
  if (raw !== undefined && values !== raw)
    return [{ path: 'parameters', message: 'expected the parameters as a mapping' }];
  const declared = BUILT_IN_FILTERS[0]!.parameters;
  for (const name of Object.keys(values)) {
    if (!declared.some((p) => p.name === name))
      issues.push({
        path: `parameters.${name}`,
        message: `${CAMPAIGN_FEEDBACK} has no parameter ${name} (it has ${declared.map((p) => p.name).join(', ')})`,
      });
  }
  const behaviour = values.behaviour;
  if (typeof behaviour !== 'string' || !(BEHAVIOURS as readonly string[]).includes(behaviour))
    issues.push({ path: 'parameters.behaviour', message: `expected one of ${BEHAVIOURS.join(', ')}` });
  const text = (name: string, required: boolean): string | undefined => {
    const value = values[name];
    if (value === undefined || value === null) {
      if (required) issues.push({ path: `parameters.${name}`, message: 'give it a value' });
      return undefined;
    }
    if (typeof value === 'string' && value !== '') return value;
    issues.push({ path: `parameters.${name}`, message: 'expected non-empty text' });
    return undefined;
  };
  const campaign = text('campaign', true);
  const activity = text('activity', false);
  let withinDays: number | undefined;
  if (values.withinDays !== undefined && values.withinDays !== null) {
    const days =
      typeof values.withinDays === 'string' && /^\d+$/.test(values.withinDays)
        ? Number(values.withinDays)
        : values.withinDays;
    if (typeof days !== 'number' || !Number.isInteger(days) || days < 0 || days > 36_500)
      issues.push({ path: 'parameters.withinDays', message: 'expected a whole number of days, 0 to 36500' });
    else withinDays = days;
    if (behaviour === 'bounced')
      issues.push({
        path: 'parameters.withinDays',
        message: 'bounced takes no withinDays: the ledger does not record when a message was refused',
      });
  }
  const includeMachine = values.includeMachine ?? false;
  if (typeof includeMachine !== 'boolean')
    issues.push({ path: 'parameters.includeMachine', message: 'expected true or false' });
  if (issues.length > 0) return issues;
  return {
    behaviour: behaviour as Behaviour,
    campaign: campaign!,
    activity,
    withinDays,
    includeMachine: includeMachine as boolean,
  };
}

/** The rule campaign-feedback stands for with these parameters. */
function feedbackRule(p: FeedbackParameters): Rule {
  const campaign: RuleValue = p.campaign === THIS_CAMPAIGN ? { param: THIS_CAMPAIGN_VARIABLE } : p.campaign;
  const ofCampaign: Rule[] = [
    { field: 'campaign', op: 'eq', value: campaign },
    ...(p.activity === undefined ? [] : [{ field: 'activity', op: 'eq' as const, value: p.activity }]),
  ];
  const since = (field: string): Rule[] =>
    p.withinDays === undefined ? [] : [{ field, op: 'gte', value: { expr: `DaysAgo(${p.withinDays})` } }];
  const messages = (statuses: string[], time: string | undefined): Rule => ({
    exists: 'messages',
    where: {
      and: [...ofCampaign, { field: 'status', op: 'in', value: statuses }, ...(time ? since(time) : [])],
    },
  });
  // Naming `human` turns the system link's human-only default off (system-links.ts).
  const machine: Rule[] = p.includeMachine ? [{ field: 'human', op: 'in', value: [true, false] }] : [];
  const events = (types: string[], timed: boolean) => ({
    and: [
      ...ofCampaign,
      { field: 'type', op: 'in' as const, value: types },
      ...(timed ? since('at') : []),
      ...machine,
    ],
  });
  switch (p.behaviour) {
    case 'sent':
      return messages(WENT_OUT, 'sent_at');
    case 'delivered':
      return messages(['delivered'], 'delivered_at');
    case 'bounced':
      return messages(['bounced'], undefined);
    case 'opened':
      return { exists: 'events', where: events(OPENS, true) };
    case 'clicked':
      return { exists: 'events', where: events(['click'], true) };
    case 'unsubscribed':
      return { exists: 'events', where: events(['unsubscribe'], true) };
    case 'not-opened':
      return { and: [messages(WENT_OUT, 'sent_at'), { notExists: 'events', where: events(OPENS, false) }] };
    case 'not-clicked':
      return {
        and: [messages(WENT_OUT, 'sent_at'), { notExists: 'events', where: events(['click'], false) }],
      };
  }
}

/**
 * The rule a built-in filter condition stands for, over `dimension`, or what is wrong with it (issue
 * paths relative to the condition).
 */
export function expandBuiltInFilter(
  id: unknown,
  parameters: unknown,
  dimension: TableDef,
): { rule: Rule } | { issues: Issue[] } {
  if (id !== CAMPAIGN_FEEDBACK) {
    return {
      issues: [
        {
          path: 'filter',
          message: `a rule can name the built-in filters (${BUILT_IN_FILTERS.map((f) => f.id).join(', ')}); apply a saved filter by its id instead of a rule`,
        },
      ],
    };
  }
  if (!dimension.targeting) {
    return {
      issues: [
        {
          path: 'filter',
          message: `${CAMPAIGN_FEEDBACK} selects recipients of messages; ${dimension.name} is not a targeting dimension`,
        },
      ],
    };
  }
  const read = readParameters(parameters);
  return Array.isArray(read) ? { issues: read } : { rule: feedbackRule(read) };
}
