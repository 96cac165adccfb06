import type { FastifyInstance } from 'fastify';
import { deleteAudience, getAudience, listAudiences } from '../../audiences/store.ts';
import type { Database } from '../../db/database.ts';
import { pageQuery, parseInput } from '../validate.ts';

/** Saved audiences: the list, one with a page of its members, and deleting one (its name is free again). */
export function audienceRoutes(app: FastifyInstance, database: Database): void {
  app.get('/api/audiences', async () => ({ audiences: await listAudiences(database) }));

  app.get('/api/audiences/:name', async (request) => {
    const page = parseInput(pageQuery(1000), request.query, 'query');
    return getAudience(database, (request.params as { name: string }).name, page);
  });

  app.delete('/api/audiences/:name', async (request, reply) => {
    await deleteAudience(database, (request.params as { name: string }).name);
    return reply.status(204).send();
  });
}
