import type { Database } from '../db/database.ts';
import type { Engine } from '../engine/engine.ts';
import { ConflictError, UserError, ValidationError, type Issue } from '../errors.ts';
import { parseSchedule } from './schedule.ts';
import { fitsType, TYPE_EXAMPLES, type SignalParameter } from './schedule/signal.ts';
import { frequencyOf } from './statuses.ts';

/**
 * Signal campaigns start when triggered: over HTTP (`POST /api/campaigns/:id/trigger`, `baton trigger`)
 * with parameters that become the run's variables, or by another campaign's `end` activity (a row of
 * `campaign_signals` the scheduler consumes). A live campaign starts at most one run an hour this way,
 * the reference's limit: a trigger beyond it is refused (429); an end activity's signal waits its turn.
 */
export const TRIGGER_INTERVAL_MS = 3_600_000;

export class TooManyTriggers extends UserError {
  constructor(
    message: string,
    readonly retryAfterSeconds: number,
  ) {
    super(message, { status: 429 });
  }
}

/** A trigger's values checked against the declared parameters, defaults filled in; every problem at once. */
export function triggerVariables(
  declared: SignalParameter[],
  given: Record<string, unknown>,
): Record<string, unknown> {
  const issues: Issue[] = [];
  const variables: Record<string, unknown> = {};
  for (const name of Object.keys(given))
    if (!declared.some((p) => p.name === name))
      issues.push({
        path: `parameters.${name}`,
        message: `not a parameter of this campaign (declared: ${declared.map((p) => p.name).join(', ') || 'none'})`,
      });
  for (const p of declared) {
    const value = Object.hasOwn(given, p.name) ? given[p.name] : p.default;
    if (value === undefined || value === null) {
      if (p.required)
        issues.push({ path: `parameters.${p.name}`, message: `required (${TYPE_EXAMPLES[p.type]})` });
      continue;
    }
    if (!fitsType(p.type, value))
      issues.push({ path: `parameters.${p.name}`, message: `expected ${TYPE_EXAMPLES[p.type]} (${p.type})` });
    else variables[p.name] = value;
  }
  if (issues.length > 0) throw new ValidationError('The trigger', issues);
  return variables;
}

async function signalCampaign(database: Database, id: string) {
  const campaign = await database.db
    .selectFrom('campaigns')
    .select(['status', 'version'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!campaign) throw new UserError(`No campaign ${id}.`, { status: 404 });
  const version =
    campaign.version === null
      ? undefined
      : await database.db
          .selectFrom('campaign_versions')
          .select('document')
          .where('campaign_id', '=', id)
          .where('version', '=', campaign.version)
          .executeTakeFirst();
  const document = version ? (JSON.parse(version.document) as Record<string, unknown>) : undefined;
  if (campaign.status !== 'live' || !document || frequencyOf(document) !== 'signal')
    throw new ConflictError(
      `Campaign ${id} cannot be triggered: only a live campaign with a signal schedule can (it is ${campaign.status}${document && frequencyOf(document) !== 'signal' ? `, scheduled ${frequencyOf(document)}` : ''}).`,
    );
  const schedule = parseSchedule(document.schedule);
  return {
    version: campaign.version!,
    parameters: schedule.frequency === 'signal' ? schedule.parameters : [],
  };
}

/** When the campaign may be triggered again (epoch ms), or null when it may now. */
async function nextAllowed(database: Database, id: string, now: Date): Promise<number | null> {
  // A signal run's "now" is the time it was triggered (on the engine's clock).
  const latest = await database.db
    .selectFrom('runs')
    .select((eb) => eb.fn.max('now_ms').as('at'))
    .where('campaign_id', '=', id)
    .where('mode', '=', 'live')
    .where('trigger', '=', 'signal')
    .executeTakeFirst();
  if (latest?.at === null || latest?.at === undefined) return null;
  const allowed = Number(latest.at) + TRIGGER_INTERVAL_MS;
  return allowed > now.getTime() ? allowed : null;
}

/** Starts a run of a live signal campaign with these parameters; returns the queued run's id. */
export async function triggerCampaign(
  database: Database,
  engine: Engine,
  id: string,
  parameters: Record<string, unknown>,
  now: Date,
): Promise<string> {
  const { version, parameters: declared } = await signalCampaign(database, id);
  const variables = triggerVariables(declared, parameters);
  const allowed = await nextAllowed(database, id, now);
  if (allowed !== null)
    throw new TooManyTriggers(
      `Campaign ${id} was triggered less than an hour ago: it can be triggered again at ${new Date(allowed).toISOString()}.`,
      Math.ceil((allowed - now.getTime()) / 1000),
    );
  return engine.enqueue(id, { mode: 'live', trigger: 'signal', version, variables, now: now.getTime() });
}

/**
 * The scheduler's part: end activities' signals to live signal campaigns become runs, oldest first, one
 * an hour per campaign (the rest wait). A signal whose parameters do not fit, or to a campaign that is
 * not a live signal campaign, is consumed without a run, the reason kept as its `outcome`.
 */
export async function triggerFromSignals(database: Database, engine: Engine, now: Date): Promise<string[]> {
  const signals = await database.db
    .selectFrom('campaign_signals')
    .select(['id', 'campaign_id', 'parameters'])
    .where('consumed_at', 'is', null)
    .orderBy('id')
    .execute();
  const runs: string[] = [];
  const waiting = new Set<string>();
  for (const signal of signals) {
    if (waiting.has(signal.campaign_id)) continue;
    let outcome: string;
    try {
      const run = await triggerCampaign(
        database,
        engine,
        signal.campaign_id,
        JSON.parse(signal.parameters) as Record<string, unknown>,
        now,
      );
      runs.push(run);
      outcome = `run ${run}`;
    } catch (error) {
      if (error instanceof TooManyTriggers) {
        waiting.add(signal.campaign_id);
        continue;
      }
      if (!(error instanceof UserError)) throw error;
      outcome = error.message;
    }
    await database.db
      .updateTable('campaign_signals')
      .set({ consumed_at: now.toISOString(), outcome })
      .where('id', '=', signal.id)
      .execute();
  }
  return runs;
}
