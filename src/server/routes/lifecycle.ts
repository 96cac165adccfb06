import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import {
  archiveCampaign,
  backToDraft,
  campaignFacts,
  closeCampaign,
  confirmSend,
  duplicateCampaign,
  publishCampaign,
  setTags,
  stopCampaign,
} from '../../campaigns/lifecycle.ts';
import { parseSchedule, previewLaunches } from '../../campaigns/schedule.ts';
import { allowedActions } from '../../campaigns/statuses.ts';
import { TooManyTriggers, triggerCampaign } from '../../campaigns/triggers.ts';
import type { Database } from '../../db/database.ts';
import type { Engine } from '../../engine/engine.ts';
import { parseInput } from '../validate.ts';

/**
 * The lifecycle over HTTP: publish, back to draft, stop, close, archive, duplicate, tags, what actions a
 * campaign allows now (and why not), schedule previews, and confirming sends. A refused action answers
 * 409 with the reason.
 */
export function lifecycleRoutes(app: FastifyInstance, database: Database, engine: Engine): void {
  const idOf = (request: { params: unknown }) => (request.params as { id: string }).id;

  app.post('/api/campaigns/:id/publish', async (request) => {
    const result = await publishCampaign(database, engine, idOf(request), new Date());
    // An asap campaign's run starts here rather than at the next sweep.
    if (result.run) void engine.take(result.run).then((taken) => taken?.finished.catch(() => undefined));
    return result;
  });
  app.post('/api/campaigns/:id/back-to-draft', async (request) => backToDraft(database, idOf(request)));
  app.post('/api/campaigns/:id/stop', async (request) => stopCampaign(database, engine, idOf(request)));
  app.post('/api/campaigns/:id/close', async (request) => closeCampaign(database, idOf(request)));
  app.post('/api/campaigns/:id/archive', async (request) => archiveCampaign(database, idOf(request)));
  app.post('/api/campaigns/:id/duplicate', async (request, reply) => {
    const body = parseInput(
      z.object({ id: z.string().min(1).optional(), name: z.string().min(1).max(200).optional() }).default({}),
      request.body ?? {},
      'body',
    );
    return reply.status(201).send(await duplicateCampaign(database, idOf(request), body));
  });
  app.put('/api/campaigns/:id/tags', async (request) => {
    const body = parseInput(z.object({ tags: z.array(z.string()) }), request.body, 'body');
    return setTags(database, idOf(request), body.tags);
  });
  app.get('/api/campaigns/:id/actions', async (request) => {
    const facts = await campaignFacts(database, idOf(request));
    return { status: facts.status, version: facts.version, actions: allowedActions(facts) };
  });

  // The next launch times of a saved campaign's schedule, or of a schedule being edited (the body).
  app.get('/api/campaigns/:id/schedule/preview', async (request) => {
    const { count } = parseInput(
      z.object({ count: z.coerce.number().int().min(1).max(100).default(10) }),
      request.query,
      'query',
    );
    const { document } = await campaignFacts(database, idOf(request));
    return launchesOf(document.schedule ?? { frequency: 'asap' }, count);
  });
  app.post('/api/schedules/preview', (request) => {
    const body = parseInput(
      z.object({ schedule: z.unknown(), count: z.number().int().min(1).max(100).default(10) }),
      request.body,
      'body',
    );
    return launchesOf(body.schedule, body.count);
  });

  app.post('/api/campaigns/:id/trigger', async (request, reply) => {
    const body = parseInput(
      z.object({ parameters: z.record(z.string(), z.unknown()).default({}) }).default({ parameters: {} }),
      request.body ?? {},
      'body',
    );
    try {
      const run = await triggerCampaign(database, engine, idOf(request), body.parameters, new Date());
      void engine.take(run).then((taken) => taken?.finished.catch(() => undefined));
      return await reply.status(202).send({ campaign: idOf(request), run });
    } catch (error) {
      if (error instanceof TooManyTriggers) void reply.header('retry-after', String(error.retryAfterSeconds));
      throw error;
    }
  });

  app.post('/api/runs/:id/confirm', async (request) => {
    const body = parseInput(
      z.object({ activity: z.string().min(1).optional() }).default({}),
      request.body ?? {},
      'body',
    );
    const confirmed = await confirmSend(database, idOf(request), body.activity);
    // The confirmed tasks are due now: carry them on without waiting for the next sweep.
    void engine.sweep().catch(() => undefined);
    return { run: idOf(request), confirmed };
  });
}

function launchesOf(raw: unknown, count: number) {
  const schedule = parseSchedule(raw);
  return {
    frequency: schedule.frequency,
    launches: previewLaunches(schedule, new Date(), count).map((l) => ({
      at: l.at.toISOString(),
      local: l.local,
    })),
  };
}
