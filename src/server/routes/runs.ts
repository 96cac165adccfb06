import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { listPreviews } from '../../delivery/previews.ts';
import { sendProofs, type ProofServices } from '../../delivery/proofs.ts';
import { UserError } from '../../errors.ts';
import type { Engine, StartedRun } from '../../engine/engine.ts';
import { LOG_LEVELS, runLogs, runStatus, transitionRows } from '../../engine/run-inspection.ts';
import { pageQuery, parseInput, queryInt } from '../validate.ts';

/**
 * Runs: start a test run, control it (stop, pause, resume, restart), and inspect it (status with counts
 * per transition, a transition's rows, the logs). Runs execute after the answer; their failures are
 * recorded on the run, not thrown here.
 */
export function runRoutes(
  app: FastifyInstance,
  database: Database,
  engine: Engine,
  proofs: ProofServices | undefined,
): void {
  const accepted = (started: StartedRun) => {
    started.finished.catch((error: unknown) => app.log.error({ run: started.run, error }, 'run crashed'));
    return runStatus(database, started.run);
  };
  const runId = (request: { params: unknown }) => (request.params as { id: string }).id;

  app.post('/api/campaigns/:id/test-runs', async (request, reply) => {
    const body = parseInput(
      z.object({ now: z.iso.datetime({ offset: true }).optional() }).default({}),
      request.body ?? {},
      'body',
    );
    const started = await engine.start(runId(request), {
      now: body.now === undefined ? undefined : Date.parse(body.now),
    });
    return reply.status(202).send(await accepted(started));
  });

  app.get('/api/runs/:id', async (request) => runStatus(database, runId(request)));
  app.post('/api/runs/:id/stop', async (request) => engine.stop(runId(request)));
  app.post('/api/runs/:id/pause', async (request) => engine.pause(runId(request)));
  app.post('/api/runs/:id/resume', async (request, reply) =>
    reply.status(202).send(await accepted(await engine.resume(runId(request)))),
  );
  app.post('/api/runs/:id/restart', async (request, reply) =>
    reply.status(202).send(await accepted(await engine.restart(runId(request)))),
  );

  app.get('/api/runs/:id/transitions/:transition/rows', async (request) => {
    const { id, transition } = request.params as { id: string; transition: string };
    const page = parseInput(pageQuery(1000), request.query, 'query');
    return transitionRows(database, id, transition, page);
  });

  app.post('/api/runs/:id/proofs', async (request) => {
    if (!proofs)
      throw new UserError('Proofs need the server started with its settings (baton start or baton server).', {
        status: 503,
      });
    const body = parseInput(
      z.object({
        activity: z.string().min(1),
        to: z.array(z.string().min(3)).min(1).max(10),
        recipients: z.array(z.string().min(1)).min(1).max(20).optional(),
      }),
      request.body,
      'body',
    );
    return { proofs: await sendProofs(database, proofs, runId(request), body) };
  });

  app.get('/api/runs/:id/previews', async (request) => ({
    previews: await listPreviews(database, runId(request)),
  }));

  app.get('/api/runs/:id/logs', async (request) => {
    const filter = parseInput(
      z.object({
        level: z.enum(LOG_LEVELS).optional(),
        activity: z.string().min(1).optional(),
        text: z.string().min(1).max(200).optional(),
        limit: queryInt(1, 10_000).default(1000),
        after: queryInt(0, Number.MAX_SAFE_INTEGER).optional(),
      }),
      request.query,
      'query',
    );
    return { logs: await runLogs(database, runId(request), filter) };
  });
}
