import { randomUUID } from 'node:crypto';
import { sql, type Kysely, type RawBuilder, type Selectable } from 'kysely';
import type { Database } from '../db/database.ts';
import { inWriteTransaction } from '../db/write-transaction.ts';
import type { BatonTables } from '../db/tables.ts';
import {
  createKeyedTable,
  keyedTableRows,
  workingTableRef,
  type ExtraColumn,
  type WorkingTable,
} from '../engine/working-tables.ts';
import { ConflictError, NotFoundError } from '../errors.ts';
import { requireSchema } from '../schema/store.ts';
import { findTable, type TableDef, type WorkspaceSchema } from '../schema/types.ts';

/**
 * Saved audiences (DESIGN.md "Activity types", reference §3.3.10): a static copy of a population, written
 * by a save-audience activity in live runs and read back by read-audience in any campaign. The name is
 * owned by one save-audience activity of one campaign; saving again overwrites the whole audience. Members
 * are the population's keys (and the columns it carried) in a table of their own, named from a generated
 * id — `audience_<id>` on SQLite, the `audiences` schema on PostgreSQL — out of reach of the run retention
 * that drops working tables.
 */
export interface AudienceSummary {
  name: string;
  dimension: string;
  count: number;
  campaign: string;
  activity: string;
  run: string;
  savedAt: string;
}

export interface AudienceOwner {
  campaign: string;
  activity: string;
  run: string;
}

type AudienceRow = Selectable<BatonTables['audiences']>;

function summary(row: AudienceRow): AudienceSummary {
  return {
    name: row.name,
    dimension: row.dimension,
    count: Number(row.row_count),
    campaign: row.campaign_id,
    activity: row.activity,
    run: row.run_id,
    savedAt: new Date(row.saved_at).toISOString(),
  };
}

function membersRef(database: Database, table: string): RawBuilder<unknown> {
  return database.kind === 'postgres' ? sql.id('audiences', table) : sql.id(`audience_${table}`);
}

async function dropMembers(database: Database, table: string): Promise<void> {
  await sql`DROP TABLE IF EXISTS ${membersRef(database, table)}`.execute(database.db);
}

/** The audience's row; inside a write transaction `trx`, locked until it ends. */
function findRow(
  database: Database,
  name: string,
  trx?: Kysely<BatonTables>,
): Promise<AudienceRow | undefined> {
  const query = (trx ?? database.db).selectFrom('audiences').selectAll().where('name', '=', name);
  // SQLite has no row locks; its write transaction (BEGIN IMMEDIATE) already holds the whole file.
  return (trx && database.kind === 'postgres' ? query.forUpdate() : query).executeTakeFirst();
}

/** One save-audience activity owns a name (reference: "unique across all campaigns' Save audience activities"). */
function refuseOtherOwner(row: AudienceRow | undefined, name: string, owner: AudienceOwner): void {
  if (!row || (row.campaign_id === owner.campaign && row.activity === owner.activity)) return;
  throw new ConflictError(
    `The audience "${name}" belongs to campaign ${row.campaign_id} (its activity ${row.activity}): an audience ` +
      'name is unique across campaigns. Choose another name, or delete that audience ' +
      `(baton audiences delete ${name}) to reuse it.`,
  );
}

/**
 * Saves `population` as the audience `name`, replacing what was saved under it; returns the member count.
 * The new members are written to a new table first, then one transaction points the audience at it, and
 * only then is the old table dropped: a reader sees the previous audience or the new one, never a mix.
 */
export async function saveAudience(
  database: Database,
  name: string,
  owner: AudienceOwner,
  population: WorkingTable,
): Promise<number> {
  // Refused before copying anything; checked again under the transaction's lock against a concurrent save.
  refuseOtherOwner(await findRow(database, name), name, owner);
  const { dimension, columns } = population;
  const table = `m${randomUUID().replaceAll('-', '')}`;
  const names = [...dimension.primaryKey, ...columns.map((c) => c.name)].map((c) => sql.id(c));
  const count = await createKeyedTable(
    database,
    membersRef(database, table),
    dimension,
    sql`SELECT ${sql.join(names)} FROM ${workingTableRef(database, population.name)}`,
    columns,
  );
  let replaced: string | undefined;
  try {
    replaced = await inWriteTransaction(database, async (db) => {
      const current = await findRow(database, name, db);
      refuseOtherOwner(current, name, owner);
      const values = {
        dimension: dimension.name,
        columns: JSON.stringify(columns),
        row_count: count,
        campaign_id: owner.campaign,
        activity: owner.activity,
        run_id: owner.run,
        members_table: table,
        saved_at: new Date().toISOString(),
      };
      if (current) await db.updateTable('audiences').set(values).where('id', '=', current.id).execute();
      else
        await db
          .insertInto('audiences')
          .values({ id: randomUUID(), name, ...values })
          .execute();
      return current?.members_table;
    });
  } catch (error) {
    await dropMembers(database, table);
    // Two first saves of one name at once (PostgreSQL: no row to lock yet): the unique index refuses the
    // later one; say whose the name is rather than quoting the index.
    if ((error as { code?: unknown }).code === '23505')
      refuseOtherOwner(await findRow(database, name), name, owner);
    throw error;
  }
  if (replaced) await dropMembers(database, replaced);
  return count;
}

function noSuchAudience(name: string): NotFoundError {
  return new NotFoundError(
    `No audience named "${name}"; it is created when a live run of a campaign with a save-audience activity saving "${name}" runs.`,
  );
}

async function requireRow(database: Database, name: string): Promise<AudienceRow> {
  const row = await findRow(database, name);
  if (!row) throw noSuchAudience(name);
  return row;
}

function dimensionOf(schema: WorkspaceSchema, row: AudienceRow): TableDef {
  const table = findTable(schema, row.dimension);
  if (!table) {
    throw new NotFoundError(
      `The audience "${row.name}" holds rows of ${row.dimension}, which is no longer a table of the workspace.`,
    );
  }
  return table;
}

/**
 * What read-audience outputs: a SELECT of the members that are still rows of the dimension (a row deleted
 * from the customer table since the save is no longer read), with the columns saved beside their keys.
 */
export async function audienceMembers(
  database: Database,
  schema: WorkspaceSchema,
  name: string,
): Promise<{
  audience: AudienceSummary;
  dimension: TableDef;
  columns: ExtraColumn[];
  select: RawBuilder<unknown>;
}> {
  const row = await requireRow(database, name);
  const dimension = dimensionOf(schema, row);
  const columns = JSON.parse(row.columns) as ExtraColumn[];
  const keys = dimension.primaryKey;
  const on = sql.join(
    keys.map((k) => sql`${sql.ref(`d.${k}`)} = ${sql.ref(`m.${k}`)}`),
    sql` AND `,
  );
  const selected = [...keys, ...columns.map((c) => c.name)].map((c) => sql.ref(`m.${c}`));
  return {
    audience: summary(row),
    dimension,
    columns,
    select: sql`SELECT ${sql.join(selected)} FROM ${membersRef(database, row.members_table)} AS m
      JOIN ${database.dialect.dataTableRef(dimension.name)} AS d ON ${on}`,
  };
}

/** Every saved audience's name and table: what validation needs to know read-audience's population. */
export async function audienceDimensions(database: Database): Promise<Map<string, string>> {
  const rows = await database.db.selectFrom('audiences').select(['name', 'dimension']).execute();
  return new Map(rows.map((r) => [r.name, r.dimension]));
}

export async function listAudiences(database: Database): Promise<AudienceSummary[]> {
  const rows = await database.db.selectFrom('audiences').selectAll().orderBy('name').execute();
  return rows.map(summary);
}

/** An audience with a page of its members as rows of its dimension (and the saved columns). */
export async function getAudience(
  database: Database,
  name: string,
  page: { limit: number; offset: number },
): Promise<AudienceSummary & { columns: string[]; rows: Array<Record<string, unknown>> }> {
  const row = await requireRow(database, name);
  const { schema } = await requireSchema(database);
  const extra = JSON.parse(row.columns) as ExtraColumn[];
  const ref = membersRef(database, row.members_table);
  return { ...summary(row), ...(await keyedTableRows(database, ref, dimensionOf(schema, row), extra, page)) };
}

/** Deletes an audience and its members; its name is free again. */
export async function deleteAudience(database: Database, name: string): Promise<void> {
  const deleted = await database.db
    .deleteFrom('audiences')
    .where('name', '=', name)
    .returning('members_table')
    .executeTakeFirst();
  if (!deleted) throw noSuchAudience(name);
  await dropMembers(database, deleted.members_table);
}
