import type { FastifyInstance } from 'fastify';
import { stringify } from 'yaml';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { tableRowCounts } from '../../data/table-rows.ts';
import { erSummary } from '../../schema/er-summary.ts';
import { applySchema } from '../../schema/migrate.ts';
import { parseSchemaText, schemaToDocument, validateSchemaDocument } from '../../schema/parse.ts';
import { requireSchema } from '../../schema/store.ts';
import { parseInput, queryFlag } from '../validate.ts';

export function schemaRoutes(app: FastifyInstance, database: Database): void {
  app.get('/api/schema', async (request, reply) => {
    const { format } = parseInput(
      z.object({ format: z.enum(['json', 'yaml']).default('json') }),
      request.query,
      'query',
    );
    const stored = await requireSchema(database);
    const document = schemaToDocument(stored.schema);
    if (format === 'yaml') return reply.type('application/yaml; charset=utf-8').send(stringify(document));
    return { version: stored.version, appliedAt: stored.appliedAt, schema: document };
  });

  app.get('/api/schema/er', async () => {
    const { schema, version } = await requireSchema(database);
    return { version, ...erSummary(schema, await tableRowCounts(database, schema)) };
  });

  app.put('/api/schema', async (request) => {
    const query = parseInput(z.object({ dryRun: queryFlag, allowDrop: queryFlag }), request.query, 'query');
    const schema =
      typeof request.body === 'string'
        ? parseSchemaText(request.body, 'the request body')
        : validateSchemaDocument(request.body);
    return applySchema(database, schema, { dryRun: query.dryRun, allowDrop: query.allowDrop });
  });
}
