import { sql, type RawBuilder } from 'kysely';
import { z } from 'zod';
import type { LinkDef, TableDef, WorkspaceSchema } from '../schema/types.ts';
import { findTable } from '../schema/types.ts';
import { sharedDimension } from './checks.ts';
import { defineActivity, MAIN, type ExecuteContext } from './types.ts';

/**
 * The population moved to another table through links: from customers to their stores (many-to-one, each
 * store once) or to their purchases (one-to-many, all of them). Input rows the links find nothing for
 * cannot be rows of the new table; they are kept, as rows of the input's table, on the `unmatched` output.
 */
export const changeDimension = defineActivity({
  type: 'change-dimension',
  label: 'Change dimension',
  category: 'targeting',
  description: 'moves the population to another table through a link',
  inputs: 'one',
  config: z.strictObject({
    /** A link of the input's table, or a path through several links: store.region_office. */
    via: z.string().min(1),
    /** Keep the input rows the links find nothing for, on the `unmatched` output. */
    keepUnmatched: z.boolean().default(true),
  }),
  outputs: (config) => (config.keepUnmatched ? [MAIN, { name: 'unmatched', label: 'unmatched' }] : [MAIN]),
  check(config, ctx) {
    const { table, issues } = sharedDimension(ctx, 'change-dimension');
    if (!table) return { population: { kind: 'unknown' }, issues };
    const walked = walk(ctx.schema, table, config.via);
    if (typeof walked === 'string') {
      issues.push({ path: `${ctx.path}.via`, message: walked });
      return { population: { kind: 'unknown' }, issues };
    }
    return {
      population: { kind: 'dimension', table: walked.target },
      issues,
      ports: { unmatched: { kind: 'dimension', table } },
    };
  },
  async execute(config, ctx) {
    const input = ctx.inputs[0]!;
    const source = input.dimension;
    const { links, target } = walk(ctx.schema, source, config.via) as Walked;
    const reached = joins(ctx, source, links);
    const targetKeys = target.primaryKey.map((k) => sql.ref(`${reached.last}.${k}`));
    await ctx.output('', target, sql`SELECT DISTINCT ${sql.join(targetKeys)} FROM ${reached.from(input)}`);
    if (config.keepUnmatched) {
      const keys = sql.join(source.primaryKey.map((k) => sql.id(k)));
      const matched = sql`SELECT ${sql.join(source.primaryKey.map((k) => sql.ref(`w.${k}`)))} FROM ${reached.from(input)}`;
      const unmatched = await ctx.output(
        'unmatched',
        source,
        sql`SELECT ${keys} FROM ${ctx.ref(input)} EXCEPT ${matched}`,
      );
      if (unmatched.count > 0)
        await ctx.log(`${unmatched.count} rows have no ${config.via}: kept on the unmatched output`);
    }
  },
});

type Walked = { links: LinkDef[]; target: TableDef };

function walk(schema: WorkspaceSchema, from: TableDef, via: string): Walked | string {
  let current = from;
  const links: LinkDef[] = [];
  for (const name of via.split('.')) {
    const link = current.links.find((l) => l.name === name);
    const next = link && findTable(schema, link.table);
    if (!link || !next) return `${current.name} has no link "${name}"`;
    links.push(link);
    current = next;
  }
  return { links, target: current };
}

/** The input's rows joined through the links (inner joins: only rows the links reach). */
function joins(
  ctx: ExecuteContext,
  source: TableDef,
  links: LinkDef[],
): { last: string; from: (input: Parameters<ExecuteContext['ref']>[0]) => RawBuilder<unknown> } {
  return {
    last: `l${links.length}`,
    from(input) {
      const start = sql.join(
        source.primaryKey.map((k) => sql`${sql.ref(`l0.${k}`)} = ${sql.ref(`w.${k}`)}`),
        sql` AND `,
      );
      let from = sql`${ctx.ref(input)} AS w JOIN ${ctx.database.dialect.dataTableRef(source.name)} AS l0 ON ${start}`;
      links.forEach((link, i) => {
        const on = sql.join(
          link.on.map((p) => sql`${sql.ref(`l${i + 1}.${p.to}`)} = ${sql.ref(`l${i}.${p.from}`)}`),
          sql` AND `,
        );
        from = sql`${from} JOIN ${ctx.database.dialect.dataTableRef(link.table)} AS ${sql.id(`l${i + 1}`)} ON ${on}`;
      });
      return from;
    },
  };
}
