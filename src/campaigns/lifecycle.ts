import type { Database } from '../db/database.ts';
import type { Engine } from '../engine/engine.ts';
import { ConflictError, NotFoundError, UserError, ValidationError } from '../errors.ts';
import { nextLaunches, parseSchedule, scheduleProblems } from './schedule.ts';
import {
  frequencyOf,
  isRecurring,
  refusal,
  type CampaignAction,
  type CampaignFacts,
  type CampaignStatus,
} from './statuses.ts';
import { getCampaignSummary, saveCampaign, validateCampaign, type CampaignSummary } from './store.ts';

/**
 * The lifecycle's actions on campaigns (statuses.ts holds the rules): publishing freezes a version and
 * starts or schedules it; the others move a campaign between statuses, each refused with its reason when
 * the campaign's situation does not allow it. Runs are queued, not executed here: the engine of a
 * server or worker takes them (or the CLI's own, with `--wait`).
 */
export interface PublishResult {
  campaign: string;
  version: number;
  status: 'live' | 'scheduled';
  /** The run an `asap` campaign started. */
  run: string | null;
  /** A scheduled campaign's first launch. */
  nextLaunch: string | null;
}

/** Days an archived campaign is kept before it is purged (BATON_ARCHIVE_PURGE_DAYS). */
export const ARCHIVE_PURGE_DAYS = 30;

/** Run statuses of a run still under way: it keeps a recurring or closed campaign from completing. */
const ACTIVE_RUN = ['queued', 'running', 'waiting', 'paused', 'pausing', 'stopping'];

export async function campaignFacts(
  database: Database,
  id: string,
): Promise<CampaignFacts & { document: Record<string, unknown>; version: number | null }> {
  const campaign = await database.db
    .selectFrom('campaigns')
    .select(['status', 'document', 'version'])
    .where('id', '=', id)
    .executeTakeFirst();
  if (!campaign) throw new NotFoundError(`No campaign ${id}.`);
  const document = JSON.parse(campaign.document) as Record<string, unknown>;
  const runs = await database.db
    .selectFrom('runs')
    .select(['status', 'started_at'])
    .where('campaign_id', '=', id)
    .where('mode', '=', 'live')
    .where('version', '=', campaign.version ?? -1)
    .orderBy('started_at', 'desc')
    .execute();
  return {
    status: campaign.status as CampaignStatus,
    recurring: isRecurring(document),
    liveRuns: runs.length,
    completedRuns: runs.filter((r) => r.status === 'done').length,
    latestFailed: runs[0]?.status === 'failed',
    document,
    version: campaign.version,
  };
}

function refuse(id: string, action: CampaignAction, reason: string | null): void {
  if (reason !== null)
    throw new ConflictError(`Campaign ${id} cannot ${action.replaceAll('-', ' ')}: ${reason}.`);
}

async function setStatus(
  database: Database,
  id: string,
  status: CampaignStatus,
  at = new Date(),
): Promise<void> {
  await database.db
    .updateTable('campaigns')
    .set({ status, status_changed_at: at.toISOString(), updated_at: at.toISOString() })
    .where('id', '=', id)
    .execute();
}

/**
 * Publishes a draft: checks it whole (the document and, at `now`, its schedule), freezes it as the next
 * version, then starts it (`asap`: a live run is queued at once), waits for signals (`signal`), or
 * schedules it (the rest). Nothing is written when a check fails.
 */
export async function publishCampaign(
  database: Database,
  engine: Engine,
  id: string,
  now: Date,
): Promise<PublishResult> {
  const facts = await campaignFacts(database, id);
  refuse(id, 'publish', refusal('publish', facts));
  const { document } = await validateCampaign(database, facts.document);
  const frequency = frequencyOf(document);
  const schedule = document.schedule === undefined ? undefined : parseSchedule(document.schedule);
  const problems = schedule ? scheduleProblems(schedule, now) : [];
  if (problems.length > 0) throw new ValidationError(`Campaign ${id} cannot be published`, problems);
  const version = (facts.version ?? 0) + 1;
  const scheduled = frequency !== 'asap' && frequency !== 'signal';
  const next = schedule && scheduled ? (nextLaunches(schedule, now, 1)[0] ?? null) : null;
  const at = now.toISOString();
  await database.db.transaction().execute(async (trx) => {
    // Refused if another publish got there first: the status is checked again in the same statement.
    const claimed = await trx
      .updateTable('campaigns')
      .set({ status: 'publishing', version, status_changed_at: at, updated_at: at })
      .where('id', '=', id)
      .where('status', '=', 'draft')
      .executeTakeFirst();
    if (Number(claimed.numUpdatedRows) !== 1)
      throw new ConflictError(`Campaign ${id} changed meanwhile; look at its status and try again.`);
    await trx
      .insertInto('campaign_versions')
      .values({ campaign_id: id, version, document: JSON.stringify(document), published_at: at })
      .execute();
    await trx.deleteFrom('schedules').where('campaign_id', '=', id).execute();
    if (schedule && scheduled)
      await trx
        .insertInto('schedules')
        .values({
          campaign_id: id,
          version,
          schedule: JSON.stringify(schedule),
          next_at: next?.getTime() ?? null,
          // Slots before publishing never launch (the missed-launch policy counts from here).
          last_at: now.getTime(),
          updated_at: at,
        })
        .execute();
  });
  const status = scheduled ? 'scheduled' : 'live';
  let run: string | null = null;
  if (frequency === 'asap')
    run = await engine.enqueue(id, { mode: 'live', version, trigger: 'manual', now: now.getTime() });
  await setStatus(database, id, status, now);
  return { campaign: id, version, status, run, nextLaunch: next?.toISOString() ?? null };
}

/**
 * Back to draft: a scheduled campaign before its first execution, or a live one whose execution failed
 * before any completed (its failed run stays as it is). The campaign is editable again; publishing it
 * makes a new version.
 */
export async function backToDraft(
  database: Database,
  id: string,
  now = new Date(),
): Promise<CampaignSummary> {
  refuse(id, 'back-to-draft', refusal('back-to-draft', await campaignFacts(database, id)));
  await database.db.deleteFrom('schedules').where('campaign_id', '=', id).execute();
  await setStatus(database, id, 'draft', now);
  return getCampaignSummary(database, id);
}

/**
 * Stops a campaign for good: no launch any more, its runs under way stop (messages not yet sent are not
 * sent). A stopped campaign is run again by duplicating it.
 */
export async function stopCampaign(
  database: Database,
  engine: Engine,
  id: string,
  now = new Date(),
): Promise<CampaignSummary> {
  refuse(id, 'stop', refusal('stop', await campaignFacts(database, id)));
  await database.db.deleteFrom('schedules').where('campaign_id', '=', id).execute();
  await setStatus(database, id, 'stopped', now);
  const active = await database.db
    .selectFrom('runs')
    .select('id')
    .where('campaign_id', '=', id)
    .where('mode', '=', 'live')
    .where(
      'status',
      'in',
      ACTIVE_RUN.filter((s) => s !== 'stopping'),
    )
    .execute();
  for (const run of active) await engine.stop(run.id);
  return getCampaignSummary(database, id);
}

/** Closes a recurring campaign: no new launch or trigger; runs under way finish. */
export async function closeCampaign(
  database: Database,
  id: string,
  now = new Date(),
): Promise<CampaignSummary> {
  refuse(id, 'close', refusal('close', await campaignFacts(database, id)));
  await database.db
    .updateTable('schedules')
    .set({ next_at: null, updated_at: now.toISOString() })
    .where('campaign_id', '=', id)
    .execute();
  await setStatus(database, id, 'closed', now);
  return getCampaignSummary(database, id);
}

/** Archives a campaign that is not a draft; it is purged `ARCHIVE_PURGE_DAYS` after (purgeArchived). */
export async function archiveCampaign(
  database: Database,
  id: string,
  now = new Date(),
): Promise<CampaignSummary> {
  const facts = await campaignFacts(database, id);
  refuse(id, 'archive', refusal('archive', facts));
  if (['publishing', 'scheduled', 'live'].includes(facts.status))
    throw new ConflictError(`Campaign ${id} cannot archive: it is ${facts.status}; stop or close it first.`);
  await setStatus(database, id, 'archived', now);
  return getCampaignSummary(database, id);
}

/**
 * A new draft with the campaign's document (of any status: how a stopped campaign runs again), under a
 * new id: the one given, else `<id>-copy`, `<id>-copy-2`…
 */
export async function duplicateCampaign(
  database: Database,
  id: string,
  options: { id?: string; name?: string } = {},
): Promise<CampaignSummary> {
  const { document } = await campaignFacts(database, id);
  let newId = options.id;
  if (newId === undefined) {
    const taken = new Set(
      (
        await database.db.selectFrom('campaigns').select('id').where('id', 'like', `${id}-copy%`).execute()
      ).map((r) => r.id),
    );
    newId = `${id}-copy`;
    for (let n = 2; taken.has(newId); n++) newId = `${id}-copy-${n}`;
  } else if (
    await database.db.selectFrom('campaigns').select('id').where('id', '=', newId).executeTakeFirst()
  ) {
    throw new ConflictError(`A campaign ${newId} already exists; choose another id.`);
  }
  const name = options.name ?? `${String(document.name)} (copy)`;
  const { campaign } = await saveCampaign(database, { ...document, id: newId, name });
  return campaign;
}

/** Tags change at any status: they classify a campaign, they do not change what it does. */
export async function setTags(database: Database, id: string, tags: string[]): Promise<CampaignSummary> {
  const bad = tags.find((t) => typeof t !== 'string' || t.trim() === '' || t.length > 100);
  if (bad !== undefined)
    throw new UserError(`Tags are non-empty texts of at most 100 characters; got ${JSON.stringify(bad)}.`);
  const { document } = await campaignFacts(database, id);
  const unique = [...new Set(tags.map((t) => t.trim()))];
  await database.db
    .updateTable('campaigns')
    .set({
      tags: JSON.stringify(unique),
      document: JSON.stringify({ ...document, tags: unique }),
      updated_at: new Date().toISOString(),
    })
    .where('id', '=', id)
    .execute();
  return getCampaignSummary(database, id);
}

/**
 * Releases sends waiting for their confirmation in a live run: the activity given, or every one waiting.
 * The task becomes due at once, so the engine executing the run's sweep carries it on within seconds.
 */
export async function confirmSend(database: Database, run: string, activity?: string): Promise<string[]> {
  const found = await database.db
    .selectFrom('runs')
    .select(['mode'])
    .where('id', '=', run)
    .executeTakeFirst();
  if (!found) throw new NotFoundError(`No run ${run}.`);
  let waiting = database.db
    .selectFrom('run_tasks')
    .select('activity')
    .where('run_id', '=', run)
    .where('state', '=', 'needs-confirmation');
  if (activity !== undefined) waiting = waiting.where('activity', '=', activity);
  const activities = (await waiting.execute()).map((t) => t.activity);
  if (activities.length === 0)
    throw new ConflictError(
      activity === undefined
        ? `Run ${run} has no send waiting for a confirmation.`
        : `Activity ${activity} of run ${run} is not waiting for a confirmation.`,
    );
  const at = new Date().toISOString();
  await database.db.transaction().execute(async (trx) => {
    await trx
      .insertInto('send_confirmations')
      .values(activities.map((a) => ({ run_id: run, activity: a, confirmed_at: at })))
      .onConflict((oc) => oc.columns(['run_id', 'activity']).doNothing())
      .execute();
    await trx
      .updateTable('run_tasks')
      .set({ state: 'waiting', wake_at: 0 })
      .where('run_id', '=', run)
      .where('activity', 'in', activities)
      .where('state', '=', 'needs-confirmation')
      .execute();
  });
  return activities;
}

/**
 * Completes the campaigns whose work is over: a one-shot campaign once its live run is done, a scheduled
 * or recurring one once no launch is left and no run is under way. A campaign whose latest run failed
 * stays live (with the error to see, and back-to-draft allowed). Called by the scheduler's tick.
 */
export async function completeFinished(database: Database, now = new Date()): Promise<string[]> {
  const candidates = await database.db
    .selectFrom('campaigns')
    .leftJoin('schedules', 'schedules.campaign_id', 'campaigns.id')
    .select(['campaigns.id', 'campaigns.document', 'schedules.next_at'])
    .where('campaigns.status', 'in', ['live', 'scheduled'])
    .execute();
  const completed: string[] = [];
  for (const c of candidates) {
    const frequency = frequencyOf(JSON.parse(c.document) as Record<string, unknown>);
    // A signal campaign waits for triggers as long as it is live: only closing or stopping ends it.
    if (frequency === 'signal' || c.next_at !== null) continue;
    const facts = await campaignFacts(database, c.id);
    if (facts.liveRuns === 0 || facts.latestFailed) continue;
    const active = await database.db
      .selectFrom('runs')
      .select('id')
      .where('campaign_id', '=', c.id)
      .where('mode', '=', 'live')
      .where('status', 'in', ACTIVE_RUN)
      .executeTakeFirst();
    if (active) continue;
    await setStatus(database, c.id, 'completed', now);
    completed.push(c.id);
  }
  return completed;
}

/**
 * Removes archived campaigns `days` after they were archived: the campaign, its versions and schedule.
 * Its runs' logs go with the retention of runs; its ledger rows stay (reports, frequency caps and
 * retargeting read them).
 */
export async function purgeArchived(
  database: Database,
  now: Date,
  days = ARCHIVE_PURGE_DAYS,
): Promise<string[]> {
  const before = new Date(now.getTime() - days * 86_400_000).toISOString();
  const old = await database.db
    .selectFrom('campaigns')
    .select('id')
    .where('status', '=', 'archived')
    .where('status_changed_at', '<', before)
    .execute();
  const ids = old.map((c) => c.id);
  if (ids.length === 0) return [];
  await database.db.transaction().execute(async (trx) => {
    await trx.deleteFrom('campaign_versions').where('campaign_id', 'in', ids).execute();
    await trx.deleteFrom('schedules').where('campaign_id', 'in', ids).execute();
    await trx.deleteFrom('campaigns').where('id', 'in', ids).execute();
  });
  return ids;
}
