import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import { clearOutbox, getOutboxMessage, getOutboxRaw, listOutbox } from '../../channels/outbox/store.ts';
import type { Database } from '../../db/database.ts';
import { pageQuery, parseInput } from '../validate.ts';

const channel = z.enum(['email', 'sms', 'push']);

/** The outbox: what the dev outbox received and the simulators were given (docs/channels.md). */
export function outboxRoutes(app: FastifyInstance, database: Database): void {
  app.get('/api/outbox', async (request) => {
    const query = parseInput(
      pageQuery(500).extend({ channel: channel.optional(), search: z.string().max(200).optional() }),
      request.query,
      'query',
    );
    return listOutbox(database, query);
  });

  app.get('/api/outbox/:id', async (request) =>
    getOutboxMessage(database, (request.params as { id: string }).id),
  );

  app.get('/api/outbox/:id/raw', async (request, reply) => {
    const raw = await getOutboxRaw(database, (request.params as { id: string }).id);
    return reply.type('message/rfc822').send(raw);
  });

  app.delete('/api/outbox', async (request) => {
    const query = parseInput(z.object({ channel: channel.optional() }), request.query, 'query');
    return { deleted: await clearOutbox(database, query.channel) };
  });
}
