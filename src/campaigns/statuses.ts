import type { ColumnType } from '../schema/types.ts';

/**
 * A campaign's statuses and the actions between them (DESIGN.md "Runs, states and the lifecycle", the
 * reference's §2.4–2.5). The rules alone, with no database: lifecycle.ts applies them.
 */
export const CAMPAIGN_STATUSES = [
  'draft',
  'publishing',
  'scheduled',
  'live',
  'completed',
  'closed',
  'stopped',
  'archived',
] as const;
export type CampaignStatus = (typeof CAMPAIGN_STATUSES)[number];

export const CAMPAIGN_ACTIONS = [
  'publish',
  'back-to-draft',
  'stop',
  'close',
  'archive',
  'duplicate',
  'delete',
] as const;
export type CampaignAction = (typeof CAMPAIGN_ACTIONS)[number];

/** Recurring schedules launch again and again; the others launch once (or when started). */
const RECURRING = ['daily', 'several-times-a-day', 'weekly', 'monthly', 'signal'];

export function frequencyOf(document: Record<string, unknown>): string {
  const schedule = document.schedule as { frequency?: unknown } | undefined;
  return typeof schedule?.frequency === 'string' ? schedule.frequency : 'asap';
}

/** The parameters a signal schedule declares (none for other schedules); the document is checked already. */
export function signalParameters(
  document: Record<string, unknown>,
): Array<{ name: string; type: ColumnType; default?: unknown; testValue?: unknown }> {
  const schedule = document.schedule as { frequency?: unknown; parameters?: unknown } | undefined;
  return schedule?.frequency === 'signal' && Array.isArray(schedule.parameters)
    ? (schedule.parameters as Array<{
        name: string;
        type: ColumnType;
        default?: unknown;
        testValue?: unknown;
      }>)
    : [];
}

/** Whether a campaign launches more than once: its sends need no confirmation, and it can be closed. */
export function isRecurring(document: Record<string, unknown>): boolean {
  return RECURRING.includes(frequencyOf(document));
}

/** What a campaign's situation is, as far as the rules need it. */
export interface CampaignFacts {
  status: CampaignStatus;
  recurring: boolean;
  /** Live runs of the current version: any at all, any that completed, and whether the latest failed. */
  liveRuns: number;
  completedRuns: number;
  latestFailed: boolean;
}

/** Why an action is refused now, or null when it is allowed. */
export function refusal(action: CampaignAction, facts: CampaignFacts): string | null {
  const { status } = facts;
  switch (action) {
    case 'publish':
      return status === 'draft'
        ? null
        : `it is ${status}: only a draft can be published (duplicate it to change it)`;
    case 'back-to-draft':
      if (status === 'scheduled')
        return facts.liveRuns === 0 ? null : 'it has run already: duplicate it to change it';
      if (status === 'live')
        return facts.latestFailed && facts.completedRuns === 0
          ? null
          : 'a live campaign goes back to draft only when its execution failed before any completed';
      return `it is ${status}: only a scheduled campaign before its first execution, or a live one whose execution failed, goes back to draft`;
    case 'stop':
      return status === 'scheduled' || status === 'live' || status === 'publishing'
        ? null
        : `it is ${status}: only a scheduled or live campaign can be stopped`;
    case 'close':
      if (!facts.recurring) return 'it is not recurring: stop it instead';
      return status === 'scheduled' || status === 'live'
        ? null
        : `it is ${status}: only a scheduled or live recurring campaign can be closed`;
    case 'archive':
      if (status === 'draft') return 'it is a draft: delete it instead';
      return status === 'archived' ? 'it is archived already' : null;
    case 'duplicate':
      return null;
    case 'delete':
      return status === 'draft' ? null : `it is ${status}: only drafts can be deleted (archive it instead)`;
  }
}

/** Every action and whether it is allowed now (what the UI enables), with the reason when not. */
export function allowedActions(facts: CampaignFacts): Record<CampaignAction, string | null> {
  return Object.fromEntries(CAMPAIGN_ACTIONS.map((a) => [a, refusal(a, facts)])) as Record<
    CampaignAction,
    string | null
  >;
}
