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

export async function listCampaigns(
  database: Database,
  options: { search?: string; status?: string; tag?: string } = {},
): Promise<CampaignSummary[]> {
  let query = database.db.selectFrom('campaigns').selectAll().orderBy('updated_at', 'desc').orderBy('id');
  if (options.status) query = query.where('status', '=', options.status);
  const search = options.search?.toLowerCase();
  return (await query.execute())
    .map(summary)
    .filter((c) => !search || c.name.toLowerCase().includes(search) || c.id.includes(search))
    .filter((c) => !options.tag || c.tags.includes(options.tag));
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
