import { sql, type RawBuilder } from 'kysely';
import type { JsonValue } from '../channels/render/context.ts';
import type { Database } from '../db/database.ts';
import { workingTableRef, type ExtraColumn } from '../engine/working-tables.ts';
import type { TableDef } from '../schema/types.ts';
import { sqlParam } from '../rules/sql-values.ts';
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
    WHERE ${keyFilter(database, dimension, 'w', recipients)}`.execute(database.db);
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

/**
 * The rows of a link's table that per-row messages are about (perRowOf), by their key as the ledger
 * keeps it (`messages.item`): one query for a batch.
 */
export async function itemRows(
  database: Database,
  table: TableDef,
  items: string[],
): Promise<Map<string, Record<string, JsonValue>>> {
  if (items.length === 0) return new Map();
  const { rows } = await sql<
    Record<string, unknown>
  >`SELECT ${recipientSql(table.primaryKey, 'i')} AS ${sql.id('__item')},
      ${sql.join(table.columns.map((c) => sql`${sql.ref(`i.${c.name}`)} AS ${sql.id(`i_${c.name}`)}`))}
    FROM ${database.dialect.dataTableRef(table.name)} AS i
    WHERE ${keyFilter(database, table, 'i', items)}`.execute(database.db);
  return new Map(
    rows.map((r) => [
      String(r.__item),
      Object.fromEntries(
        table.columns.map((c) => [c.name, database.dialect.fromDriver(c.type, r[`i_${c.name}`])]),
      ),
    ]),
  );
}

/**
 * Rows of `table` (under `alias`) by their key as the ledger's text, as a condition the key's index
 * serves: a one-column key compared as its own type (the text back to an integer…); a composite key,
 * rarer, by its text.
 */
function keyFilter(
  database: Database,
  table: TableDef,
  alias: string,
  keysText: string[],
): RawBuilder<unknown> {
  const keys = table.primaryKey;
  const column = keys.length === 1 ? table.columns.find((c) => c.name === keys[0]) : undefined;
  const numeric = column?.type === 'integer' || column?.type === 'decimal';
  // Integers beyond 2^53 are not exact as numbers: those keys keep the text comparison.
  if (
    !column ||
    !['integer', 'decimal', 'string', 'date'].includes(column.type) ||
    (numeric && keysText.some((r) => !Number.isSafeInteger(Math.trunc(Number(r)))))
  )
    return sql`${recipientSql(keys, alias)} IN (${sql.join(keysText)})`;
  const value = (text: string) => (numeric ? Number(text) : text);
  return sql`${sql.ref(`${alias}.${column.name}`)} IN (${sql.join(
    keysText.map((r) => sqlParam(database.kind, value(r), column.type)),
  )})`;
}
