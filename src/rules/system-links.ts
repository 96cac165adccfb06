import { sql, type RawBuilder } from 'kysely';
import type { DatabaseKind } from '../db/dialect.ts';
import { EVENTS_TABLE, RECIPIENT } from '../schema/system-tables.ts';
import type { ColumnDef, TableDef } from '../schema/types.ts';
import type { CollectionRef } from './scope.ts';
import type { Value } from './values.ts';

/**
 * The system links in rules (their tables: src/schema/system-tables.ts). In SQL each system table is a
 * view of Baton's own `messages` / `events` table, with the rules' column names and datetimes in the
 * form customer tables store them, so exists, aggregates, expressions and windows work on them as on
 * any linked table.
 */

/**
 * The condition a system table's rows meet unless the rule asks otherwise: retargeting counts human
 * events only (DESIGN.md "Tracking"); a rule that names `human` itself decides (check-rule.ts).
 */
export function implicitCondition(table: TableDef): { column: ColumnDef; value: Value } | undefined {
  if (table.system !== 'events') return undefined;
  return { column: EVENTS_TABLE.columns.find((c) => c.name === 'human')!, value: true };
}

/** Whether a written rule names the column `human`: a field condition on it, or an expression using it. */
export function mentionsHuman(raw: unknown): boolean {
  if (Array.isArray(raw)) return raw.some(mentionsHuman);
  if (typeof raw !== 'object' || raw === null) return false;
  return Object.entries(raw).some(([key, value]) => {
    if (key === 'field') return value === 'human';
    if (key === 'expr') return typeof value === 'string' && /\bhuman\b/.test(value);
    return mentionsHuman(value);
  });
}

/** A collection as a rule uses it: a `where` that names `human` replaces the human-only default. */
export function asWritten(collection: CollectionRef, where: unknown): CollectionRef {
  return collection.implicit && mentionsHuman(where) ? { ...collection, implicit: undefined } : collection;
}

/**
 * A system table as a derived table with the rules' column names. The ledger keeps times as ISO 8601
 * text on SQLite (`…T…Z`), which does not sort with the `YYYY-MM-DD HH:MM:SS.SSS` form of customer
 * datetimes and rule values, so they are rewritten to it; PostgreSQL has timestamptz on both sides.
 * A message whose provider sent a delivery receipt has the status `delivered`.
 */
export function systemTableSql(kind: DatabaseKind, table: TableDef): RawBuilder<unknown> {
  const time = (name: string) =>
    kind === 'sqlite' ? sql`replace(substr(${sql.ref(name)}, 1, 23), 'T', ' ')` : sql.ref(name);
  if (table.system === 'messages') {
    return sql`(SELECT m.id AS id, m.campaign_id AS campaign,
      (SELECT r.version FROM runs AS r WHERE r.id = m.run_id) AS version,
      m.run_id AS run, m.activity AS activity, m.channel AS channel, m.address AS address,
      CASE WHEN m.status = 'sent' AND m.delivered_at IS NOT NULL THEN 'delivered' ELSE m.status END AS status,
      m.reason AS reason, m.attempts AS attempts, ${time('m.sent_at')} AS sent_at,
      ${time('m.delivered_at')} AS delivered_at, m.recipient AS ${sql.id(RECIPIENT)}
      FROM messages AS m)`;
  }
  return sql`(SELECT e.id AS id, e.message_id AS message, e.campaign_id AS campaign, e.activity AS activity,
    e.run_id AS run, e.channel AS channel, e.type AS type, e.link AS link, e.url AS url, e.human AS human,
    ${time('e.at')} AS at, e.recipient AS ${sql.id(RECIPIENT)}
    FROM events AS e)`;
}
