import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { startRun } from '../../engine/run-campaign.ts';
import { runLogs, runStatus, transitionRows } from '../../engine/run-inspection.ts';
import { parseInput, queryInt } from '../validate.ts';

/** Test runs and their inspection: status with counts per transition, a transition's rows, the logs. */
export function runRoutes(app: FastifyInstance, database: Database): void {
  app.post('/api/campaigns/:id/test-runs', async (request, reply) => {
    const body = parseInput(
      z.object({ now: z.iso.datetime({ offset: true }).optional() }),
      request.body,
      'body',
    );
    const { run, finished } = await startRun(database, (request.params as { id: string }).id, {
      now: body.now === undefined ? undefined : Date.parse(body.now),
      inWorker: true,
    });
    // The run goes on after the answer; its failures are recorded on the run, not thrown here.
    finished.catch((error: unknown) => app.log.error({ run, error }, 'test run crashed'));
    return reply.status(202).send({ run, status: 'running' });
  });

  app.get('/api/runs/:id', async (request) => runStatus(database, (request.params as { id: string }).id));

  app.get('/api/runs/:id/transitions/:transition/rows', async (request) => {
    const { id, transition } = request.params as { id: string; transition: string };
    const page = parseInput(
      z.object({
        limit: queryInt(1, 1000).default(50),
        offset: queryInt(0, Number.MAX_SAFE_INTEGER).default(0),
      }),
      request.query,
      'query',
    );
    return transitionRows(database, id, transition, page);
  });

  app.get('/api/runs/:id/logs', async (request) => ({
    logs: await runLogs(database, (request.params as { id: string }).id),
  }));
}
