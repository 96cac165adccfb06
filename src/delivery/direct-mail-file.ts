import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { mkdir, rename } from 'node:fs/promises';
import path from 'node:path';
import { finished } from 'node:stream/promises';
import { sql } from 'kysely';
import { columnSql } from '../activities/checks.ts';
import type { ExecuteContext } from '../activities/types.ts';
import { csvLine } from '../data/csv-line.ts';
import { recipientSql } from './queue.ts';

/** Rows read from the database at a time while the file is written. */
const PAGE = 5_000;

/**
 * Direct mail is a file for a mail house: the queued recipients of the ledger, in their send order, with
 * the chosen columns (fields of the table, links allowed, or columns the rows carry), written to
 * `<BATON_DATA_DIR>/<folder>/<campaign>-<activity>-<run>.csv`. The file is written under a temporary name
 * and renamed, then its messages are marked sent in one statement: executed again, the activity finds
 * nothing queued and leaves the file as it is.
 */
export async function writeDirectMailFile(
  ctx: ExecuteContext,
  config: { columns: string[]; folder: string },
): Promise<string | undefined> {
  const input = ctx.inputs[0]!;
  const queued = await ctx.database.db
    .selectFrom('messages')
    .select((eb) => eb.fn.countAll().as('n'))
    .where('run_id', '=', ctx.run)
    .where('activity', '=', ctx.activity)
    .where('status', '=', 'queued')
    .executeTakeFirstOrThrow();
  if (Number(queued.n) === 0) return undefined;
  const folder = path.join(ctx.database.dataDir, config.folder);
  await mkdir(folder, { recursive: true });
  const file = path.join(folder, `${ctx.campaign}-${ctx.activity}-${ctx.run.slice(0, 8)}.csv`);
  const partial = `${file}.partial`;
  const { scope } = ctx.rule(input.dimension, { and: [] }, input);
  const columns = config.columns.map((name) => ({ name, ...columnSql(scope, input, name) }));
  const recipient = recipientSql(input.dimension.primaryKey, 'w');
  const out = createWriteStream(partial);
  out.write(`${csvLine(config.columns)}\n`);
  for (let offset = 0; ; offset += PAGE) {
    const { rows } = await sql<Record<string, unknown>>`SELECT ${sql.join(
      columns.map((c, i) => sql`${c.sql} AS ${sql.id(`c${i}`)}`),
    )} FROM ${scope.from()}
      JOIN messages m ON m.recipient = ${recipient} AND m.run_id = ${ctx.run} AND m.activity = ${ctx.activity}
      WHERE m.status = 'queued' ORDER BY m.position LIMIT ${sql.lit(PAGE)} OFFSET ${sql.lit(offset)}`.execute(
      ctx.database.db,
    );
    for (const row of rows) {
      const fields = columns.map((c, i) => {
        const value = ctx.database.dialect.fromDriver(c.type, row[`c${i}`]);
        return value === null || value === undefined ? '' : String(value);
      });
      if (!out.write(`${csvLine(fields)}\n`)) await once(out, 'drain');
    }
    if (rows.length < PAGE) break;
  }
  out.end();
  await finished(out);
  await rename(partial, file);
  const at = new Date().toISOString();
  await ctx.database.db
    .updateTable('messages')
    .set({ status: 'sent', sent_at: at, updated_at: at, provider: 'file' })
    .where('run_id', '=', ctx.run)
    .where('activity', '=', ctx.activity)
    .where('status', '=', 'queued')
    .execute();
  return file;
}
