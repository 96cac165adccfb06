import { sql } from 'kysely';
import type { JsonValue } from '../channels/render/context.ts';
import type { Database } from '../db/database.ts';
import { workingTableRef, type ExtraColumn } from '../engine/working-tables.ts';
import type { TableDef } from '../schema/types.ts';
import { recipientSql } from './queue.ts';

/**
 * Recipients as their messages are rendered from: their row of the dimension (`profile`) and the columns
 * their working table carries (`row`), typed as the dialect reads them, by recipient (the ledger's text
 * key). One query for a whole batch.
 */
export async function recipientRows(
  database: Database,
  source: { dimension: TableDef; carried: ExtraColumn[]; workingTable: string },
  recipients: string[],
): Promise<Map<string, { profile: Record<string, JsonValue>; row: Record<string, JsonValue> }>> {
  const { dimension, carried } = source;
  if (recipients.length === 0) return new Map();
  const keys = dimension.primaryKey;
  const on = sql.join(
    keys.map((k) => sql`${sql.ref(`d.${k}`)} = ${sql.ref(`w.${k}`)}`),
    sql` AND `,
  );
  const select = [
    sql`${recipientSql(keys, 'w')} AS ${sql.id('__recipient')}`,
    ...dimension.columns.map((c) => sql`${sql.ref(`d.${c.name}`)} AS ${sql.id(`d_${c.name}`)}`),
    ...carried.map((c) => sql`${sql.ref(`w.${c.name}`)} AS ${sql.id(`w_${c.name}`)}`),
  ];
  const { rows } = await sql<Record<string, unknown>>`SELECT ${sql.join(select)}
    FROM ${workingTableRef(database, source.workingTable)} AS w
    JOIN ${database.dialect.dataTableRef(dimension.name)} AS d ON ${on}
    WHERE ${recipientSql(keys, 'w')} IN (${sql.join(recipients)})`.execute(database.db);
  const dialect = database.dialect;
  return new Map(
    rows.map((r) => [
      String(r.__recipient),
      {
        profile: Object.fromEntries(
          dimension.columns.map((c) => [c.name, dialect.fromDriver(c.type, r[`d_${c.name}`])]),
        ),
        row: Object.fromEntries(carried.map((c) => [c.name, dialect.fromDriver(c.type, r[`w_${c.name}`])])),
      },
    ]),
  );
}
