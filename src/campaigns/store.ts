import type { Selectable } from 'kysely';
import { stringify } from 'yaml';
import { audienceDimensions } from '../audiences/store.ts';
import type { Database } from '../db/database.ts';
import type { BatonTables } from '../db/tables.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { requireSchema } from '../schema/store.ts';
import { checkCampaign, type CheckedCampaign } from './document.ts';

/**
 * Campaigns kept in the database: the document exactly as given (so exporting gives it back), with its
 * name, tags and status beside it for listings. A document is checked whole before anything is written.
 * Only drafts change; statuses beyond draft come with publishing.
 */
export interface CampaignSummary {
  id: string;
  name: string;
  description: string | null;
  tags: string[];
  status: string;
  activities: number;
  createdAt: string;
  updatedAt: string;
}

type CampaignRow = Selectable<BatonTables['campaigns']>;

function summary(row: CampaignRow): CampaignSummary {
  const document = JSON.parse(row.document) as { activities: Record<string, unknown> };
  return {
    id: row.id,
    name: row.name,
    description: row.description,
    tags: JSON.parse(row.tags) as string[],
    status: row.status,
    activities: Object.keys(document.activities).length,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

export async function validateCampaign(database: Database, raw: unknown): Promise<CheckedCampaign> {
  const { schema } = await requireSchema(database);
  return checkCampaign(schema, raw, await audienceDimensions(database));
}

/** Creates or replaces a draft campaign from its document; returns whether it was created. */
export async function saveCampaign(
  database: Database,
  raw: unknown,
): Promise<{ campaign: CampaignSummary; created: boolean }> {
  const checked = await validateCampaign(database, raw);
  const { document } = checked;
  const now = new Date().toISOString();
  const existing = await database.db
    .selectFrom('campaigns')
    .select(['status'])
    .where('id', '=', document.id)
    .executeTakeFirst();
  if (existing && existing.status !== 'draft') {
    throw new ConflictError(
      `Campaign ${document.id} is ${existing.status}: only drafts can be changed (duplicate it to edit a copy).`,
    );
  }
  const values = {
    name: document.name,
    description: typeof document.description === 'string' ? document.description : null,
    tags: JSON.stringify(Array.isArray(document.tags) ? document.tags : []),
    document: JSON.stringify(document),
    updated_at: now,
  };
  if (existing)
    await database.db.updateTable('campaigns').set(values).where('id', '=', document.id).execute();
  else
    await database.db
      .insertInto('campaigns')
      .values({ id: document.id, status: 'draft', created_at: now, ...values })
      .execute();
  return { campaign: await getCampaignSummary(database, document.id), created: !existing };
}

async function row(database: Database, id: string): Promise<CampaignRow> {
  const found = await database.db.selectFrom('campaigns').selectAll().where('id', '=', id).executeTakeFirst();
  if (!found) throw new NotFoundError(`No campaign ${id}.`);
  return found;
}

export async function getCampaignSummary(database: Database, id: string): Promise<CampaignSummary> {
  return summary(await row(database, id));
}

/** The document as it was saved. */
export async function getCampaignDocument(database: Database, id: string): Promise<Record<string, unknown>> {
  return JSON.parse((await row(database, id)).document) as Record<string, unknown>;
}

/** The document of a published version, as frozen when it was published. */
export async function getVersionDocument(
  database: Database,
  id: string,
  version: number,
): Promise<Record<string, unknown>> {
  const found = await database.db
    .selectFrom('campaign_versions')
    .select('document')
    .where('campaign_id', '=', id)
    .where('version', '=', version)
    .executeTakeFirst();
  if (!found) throw new NotFoundError(`Campaign ${id} has no version ${version}.`);
  return JSON.parse(found.document) as Record<string, unknown>;
}

/** The document as YAML, ready to be kept in git and applied again. */
export async function exportCampaign(database: Database, id: string): Promise<string> {
  return stringify(await getCampaignDocument(database, id), { lineWidth: 0 });
}

export interface CampaignListFilters {
  /** Text in the name or the id (case-insensitive). */
  search?: string;
  status?: string;
  tag?: string;
  /** Campaigns with an activity of this channel (`email`, `sms`, `push`, `direct-mail`). */
  channel?: string;
  /** Last modified in this range (ISO 8601, either end optional). */
  from?: string;
  to?: string;
}

/** A campaign in the list: its summary, its channels, its latest live execution and its next launch. */
export interface CampaignListEntry extends CampaignSummary {
  channels: string[];
  version: number | null;
  lastRun: { id: string; status: string; startedAt: string } | null;
  nextLaunch: string | null;
}

const CHANNEL_TYPES = ['email', 'sms', 'push', 'direct-mail'];

export async function listCampaigns(
  database: Database,
  filters: CampaignListFilters = {},
): Promise<CampaignListEntry[]> {
  let query = database.db
    .selectFrom('campaigns')
    .leftJoin('schedules', 'schedules.campaign_id', 'campaigns.id')
    .selectAll('campaigns')
    .select('schedules.next_at')
    .orderBy('campaigns.updated_at', 'desc')
    .orderBy('campaigns.id');
  if (filters.status) query = query.where('campaigns.status', '=', filters.status);
  // Stored as ISO 8601 in UTC (text on SQLite): bounds are compared in the same form.
  if (filters.from) query = query.where('campaigns.updated_at', '>=', new Date(filters.from).toISOString());
  if (filters.to) query = query.where('campaigns.updated_at', '<=', new Date(filters.to).toISOString());
  const rows = await query.execute();
  // The latest live run of each campaign listed, in one query.
  const latest = new Map<string, { id: string; status: string; startedAt: string }>();
  if (rows.length > 0) {
    const runs = await database.db
      .selectFrom('runs')
      .select(['id', 'campaign_id', 'status', 'started_at'])
      .where('mode', '=', 'live')
      .where(
        'campaign_id',
        'in',
        rows.map((r) => r.id),
      )
      .orderBy('started_at')
      .execute();
    for (const r of runs)
      latest.set(r.campaign_id, {
        id: r.id,
        status: r.status,
        startedAt: new Date(r.started_at).toISOString(),
      });
  }
  const search = filters.search?.toLowerCase();
  return rows
    .map((row) => {
      const document = JSON.parse(row.document) as { activities: Record<string, { type?: unknown }> };
      const channels = [
        ...new Set(
          Object.values(document.activities)
            .map((a) => String(a.type))
            .filter((t) => CHANNEL_TYPES.includes(t)),
        ),
      ];
      return {
        ...summary(row),
        channels,
        version: row.version,
        lastRun: latest.get(row.id) ?? null,
        nextLaunch: row.next_at === null ? null : new Date(Number(row.next_at)).toISOString(),
      };
    })
    .filter((c) => !search || c.name.toLowerCase().includes(search) || c.id.includes(search))
    .filter((c) => !filters.tag || c.tags.includes(filters.tag))
    .filter((c) => !filters.channel || c.channels.includes(filters.channel));
}

/** Deletes a draft. */
export async function deleteCampaign(database: Database, id: string): Promise<void> {
  const found = await row(database, id);
  if (found.status !== 'draft')
    throw new ConflictError(
      `Campaign ${id} is ${found.status}: only drafts can be deleted (archive it instead).`,
    );
  await database.db.deleteFrom('campaigns').where('id', '=', id).execute();
}
