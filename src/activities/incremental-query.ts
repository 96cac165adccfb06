import { sql } from 'kysely';
import { z } from 'zod';
import { widenSql } from '../rules/expression/to-sql.ts';
import { Scope } from '../rules/scope.ts';
import { fromSql, sqlParam } from '../rules/sql-values.ts';
import { findTable } from '../schema/types.ts';
import { fieldIssues, onDimension, ruleIssues, ruleShape } from './checks.ts';
import { defineActivity, MAIN } from './types.ts';

/** A rule's rows that earlier runs of the campaign have not returned yet, tracked by a date-time field. */
export const incrementalQuery = defineActivity({
  type: 'incremental-query',
  label: 'Incremental query',
  category: 'targeting',
  description: 'selects the rows of a rule that earlier runs have not returned, by a date-time field',
  inputs: 'optional',
  config: z.strictObject({
    dimension: z.string().min(1),
    rule: ruleShape.default({ and: [] }),
    /** The date-time field (a path, links allowed) whose high-water mark separates new rows from old. */
    since: z.string().min(1),
  }),
  outputs: () => [MAIN],
  check: (config, ctx) =>
    onDimension(ctx, config.dimension, (table) => [
      ...ruleIssues(ctx, table, config.rule, 'rule'),
      ...fieldIssues(ctx, table, config.since, 'since', { types: ['datetime', 'date'] }),
    ]),
  async execute(config, ctx) {
    const table = findTable(ctx.schema, config.dimension)!;
    const { scope, where } = ctx.rule(table, config.rule);
    const ref = new Scope(ctx.schema, table).field(config.since.split('.'));
    if (typeof ref === 'string') throw new Error(ref);
    const since = widenSql(scope.column(ref), ref.column.type, 'datetime', ctx.database.kind);
    const key = { campaign_id: ctx.campaign, activity: ctx.activity, mode: ctx.mode };
    const mark = await ctx.database.db
      .selectFrom('incremental_marks')
      .select('mark_ms')
      .where('campaign_id', '=', key.campaign_id)
      .where('activity', '=', key.activity)
      .where('mode', '=', key.mode)
      .executeTakeFirst();
    // Rows whose date-time is past the mark; rows without one are never "new".
    const fresh =
      mark === undefined
        ? sql`${since} IS NOT NULL`
        : sql`${since} > ${sqlParam(ctx.database.kind, Number(mark.mark_ms), 'datetime')}`;
    const keys = sql.join(table.primaryKey.map((k) => sql.ref(`${scope.alias}.${k}`)));
    const result = await ctx.output(
      '',
      table,
      sql`SELECT ${keys} FROM ${scope.from()} WHERE ${where} AND ${fresh}`,
    );
    if (result.count === 0) return;
    // The new mark: the latest date-time among the rows returned.
    const on = sql.join(
      table.primaryKey.map((k) => sql`${sql.ref(`${scope.alias}.${k}`)} = ${sql.ref(`r.${k}`)}`),
      sql` AND `,
    );
    const latest = await sql<{
      m: unknown;
    }>`SELECT max(${since}) AS m FROM ${ctx.ref(result)} AS r JOIN ${scope.from()} ON ${on}`.execute(
      ctx.database.db,
    );
    const markMs = fromSql('datetime', latest.rows[0]?.m) as number;
    const updated_at = new Date().toISOString();
    if (mark === undefined)
      await ctx.database.db
        .insertInto('incremental_marks')
        .values({ ...key, mark_ms: markMs, updated_at })
        .execute();
    else {
      await ctx.database.db
        .updateTable('incremental_marks')
        .set({ mark_ms: markMs, updated_at })
        .where('campaign_id', '=', key.campaign_id)
        .where('activity', '=', key.activity)
        .where('mode', '=', key.mode)
        .execute();
    }
    await ctx.log(
      `${result.count} new rows; the mark moves to ${new Date(markMs).toISOString()}${ctx.mode === 'test' ? ' (test runs keep their own mark)' : ''}`,
    );
  },
});
