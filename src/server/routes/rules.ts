import type { FastifyInstance } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { UserError } from '../../errors.ts';
import { functionCatalogue } from '../../rules/expression/functions/index.ts';
import { OPERATORS } from '../../rules/operators.ts';
import { DATE_PRESETS } from '../../rules/presets.ts';
import {
  countRule,
  distribution,
  MAX_PREVIEW,
  prepareRule,
  previewRule,
  ruleSqlText,
  type RuleRequest,
} from '../../rules/rule-service.ts';
import {
  createFilter,
  deleteFilter,
  filterRequest,
  getFilter,
  listFilters,
  updateFilter,
  type FilterInput,
} from '../../rules/saved-filters.ts';
import { parseInput, queryFlag } from '../validate.ts';

/**
 * The rule builder's API: count, preview, SQL and value distribution of a rule (given inline, or a
 * saved filter by id with parameter values), the function catalogue and date presets, and saved filters.
 * Bodies are JSON, or YAML sent as text.
 */
const ruleBody = z.object({
  dimension: z.string().min(1).optional(),
  rule: z.unknown().optional(),
  /** A saved filter to apply instead of an inline rule. */
  filter: z.string().min(1).optional(),
  parameters: z.record(z.string(), z.unknown()).optional(),
  /** The time rules treat as now (ISO 8601); the current time by default. */
  now: z.iso.datetime({ offset: true }).optional(),
});

const previewBody = ruleBody.extend({
  columns: z.array(z.string().min(1)).max(100).optional(),
  limit: z.number().int().min(1).max(MAX_PREVIEW).default(50),
  offset: z.number().int().min(0).default(0),
});

const distributionBody = ruleBody.extend({ field: z.string().min(1) });

function bodyOf(raw: unknown): unknown {
  return typeof raw === 'string' ? (parseYaml(raw) as unknown) : raw;
}

async function ruleRequest(database: Database, body: z.infer<typeof ruleBody>): Promise<RuleRequest> {
  const now = body.now === undefined ? undefined : Date.parse(body.now);
  if (body.filter !== undefined) {
    if (body.rule !== undefined) throw new UserError('Give either a rule or a saved filter, not both.');
    return { ...(await filterRequest(database, body.filter, body.parameters, body.dimension)), now };
  }
  if (body.rule === undefined)
    throw new UserError('The body needs a rule (or a saved filter id in "filter").');
  if (body.dimension === undefined)
    throw new UserError('The body needs the dimension (the table the rule selects rows of).');
  return { dimension: body.dimension, rule: body.rule, parameters: body.parameters, now };
}

export function ruleRoutes(app: FastifyInstance, database: Database): void {
  app.post('/api/rules/validate', async (request) => {
    const body = parseInput(ruleBody, bodyOf(request.body), 'body');
    const { checked } = await prepareRule(database, await ruleRequest(database, body));
    return { valid: true, dimension: checked.dimension.name, parameters: checked.parameters };
  });

  app.post('/api/rules/count', async (request) => {
    const body = parseInput(ruleBody, bodyOf(request.body), 'body');
    return { count: await countRule(database, await ruleRequest(database, body)) };
  });

  app.post('/api/rules/preview', async (request) => {
    const body = parseInput(previewBody, bodyOf(request.body), 'body');
    const rule = await ruleRequest(database, body);
    return previewRule(database, { ...rule, columns: body.columns, limit: body.limit, offset: body.offset });
  });

  app.post('/api/rules/sql', async (request) => {
    const body = parseInput(ruleBody, bodyOf(request.body), 'body');
    return ruleSqlText(database, await ruleRequest(database, body));
  });

  app.post('/api/rules/distribution', async (request) => {
    const raw = bodyOf(request.body) as Record<string, unknown> | undefined;
    // The rule is optional here: without one, the distribution is over the whole table.
    const body = parseInput(distributionBody, { rule: { and: [] }, ...raw }, 'body');
    return distribution(database, { ...(await ruleRequest(database, body)), field: body.field });
  });

  app.get('/api/rules/functions', () => ({ operators: OPERATORS, functions: functionCatalogue() }));
  app.get('/api/rules/presets', () => ({ presets: DATE_PRESETS }));

  app.get('/api/filters', async (request) => {
    const query = parseInput(
      z.object({ dimension: z.string().optional(), search: z.string().optional(), favorite: queryFlag }),
      request.query,
      'query',
    );
    const favorite =
      (request.query as Record<string, unknown> | undefined)?.favorite === undefined
        ? undefined
        : query.favorite;
    return {
      filters: await listFilters(database, { dimension: query.dimension, search: query.search, favorite }),
    };
  });

  app.post('/api/filters', async (request, reply) => {
    const filter = await createFilter(database, bodyOf(request.body) ?? {});
    return reply.status(201).send(filter);
  });

  app.get('/api/filters/:id', async (request) => getFilter(database, (request.params as { id: string }).id));

  app.put('/api/filters/:id', async (request) =>
    updateFilter(
      database,
      (request.params as { id: string }).id,
      (bodyOf(request.body) ?? {}) as FilterInput,
    ),
  );

  app.delete('/api/filters/:id', async (request, reply) => {
    await deleteFilter(database, (request.params as { id: string }).id);
    return reply.status(204).send();
  });
}
