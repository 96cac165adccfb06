import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import {
  ADDRESS_LISTS,
  listAddresses,
  releaseAddress,
  type AddressList,
} from '../../delivery/address-lists.ts';
import { traceMessage } from '../../delivery/message-trace.ts';
import { pageQuery, parseInput } from '../validate.ts';

const channel = z.enum(['email', 'sms', 'push']);

/**
 * One message of the ledger with its events (`GET /api/messages/:id`), and the address lists every send
 * checks: `GET /api/quarantine`, `GET /api/unsubscriptions`, and `DELETE …/:channel/:address` to take an
 * address off (docs/delivery.md "Quarantine and unsubscriptions").
 */
export function ledgerRoutes(app: FastifyInstance, database: Database): void {
  app.get('/api/messages/:id', async (request) =>
    traceMessage(database, (request.params as { id: string }).id),
  );

  for (const list of ADDRESS_LISTS satisfies readonly AddressList[]) {
    app.get(`/api/${list}`, async (request) => {
      const query = parseInput(
        pageQuery(1000).extend({ channel: channel.optional(), search: z.string().max(200).optional() }),
        request.query,
        'query',
      );
      return listAddresses(database, list, query);
    });
    app.delete(`/api/${list}/:channel/:address`, async (request, reply) => {
      const params = parseInput(
        z.object({ channel, address: z.string().min(1).max(320) }),
        request.params,
        'path',
      );
      await releaseAddress(database, list, params.channel, params.address);
      return reply.status(204).send();
    });
  }
}
