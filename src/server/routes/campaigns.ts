import type { FastifyInstance } from 'fastify';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { ACTIVITIES } from '../../activities/registry.ts';
import type { CheckedCampaign } from '../../campaigns/document.ts';
import { CAMPAIGN_STATUSES } from '../../campaigns/statuses.ts';
import type { Database } from '../../db/database.ts';
import {
  deleteCampaign,
  exportCampaign,
  getCampaignDocument,
  getCampaignSummary,
  listCampaigns,
  saveCampaign,
  validateCampaign,
} from '../../campaigns/store.ts';
import type { SendingChannel } from '../../channels/types.ts';
import { simulateContent } from '../../delivery/simulate.ts';
import { NotFoundError, UserError } from '../../errors.ts';
import { parseInput } from '../validate.ts';

/**
 * Campaign documents over HTTP: create, replace, read (JSON or YAML), list, delete drafts, and validate a
 * saved or an unsaved document. Bodies are JSON, or YAML sent as text.
 */
function documentOf(raw: unknown): unknown {
  return typeof raw === 'string' ? (parseYaml(raw) as unknown) : raw;
}

/** What validation tells the canvas: each activity's outputs and the population they carry. */
function graphOf(checked: CheckedCampaign) {
  return {
    valid: true,
    activities: checked.activities.map((a) => ({
      id: a.id,
      type: a.definition.type,
      inputs: a.inputs.map((i) => (i.port ? `${i.activity}.${i.port}` : i.activity)),
      outputs: a.outputs.map((o) => (o.name ? `${a.id}.${o.name}` : a.id)),
      population: a.population.kind === 'dimension' ? a.population.table.name : a.population.kind,
    })),
  };
}

export function campaignRoutes(app: FastifyInstance, database: Database): void {
  // "Simulate content": a channel's content rendered with sample data, no run needed.
  app.post('/api/channels/:channel/simulate', async (request) => {
    const channel = (request.params as { channel: string }).channel;
    const body = parseInput(
      z.object({
        config: z.record(z.string(), z.unknown()),
        samples: z
          .array(
            z.object({
              address: z.string(),
              profile: z.record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()])),
              target: z
                .record(z.string(), z.union([z.string(), z.number(), z.boolean(), z.null()]))
                .optional(),
            }),
          )
          .min(1)
          .max(50),
      }),
      request.body,
      'body',
    );
    if (!['email', 'sms', 'push'].includes(channel))
      throw new NotFoundError(`No channel ${channel}: email, sms or push can be simulated.`);
    return { messages: await simulateContent({ type: channel as SendingChannel, ...body }) };
  });

  app.get('/api/activities', () => ({
    activities: ACTIVITIES.map((a) => ({
      type: a.type,
      label: a.label,
      category: a.category,
      description: a.description,
      inputs: a.inputs,
    })),
  }));

  app.get('/api/campaigns', async (request) => {
    const query = parseInput(
      z.object({
        search: z.string().optional(),
        status: z.enum(CAMPAIGN_STATUSES).optional(),
        tag: z.string().optional(),
        channel: z.enum(['email', 'sms', 'push', 'direct-mail']).optional(),
        from: z.iso.datetime({ offset: true }).optional(),
        to: z.iso.datetime({ offset: true }).optional(),
      }),
      request.query,
      'query',
    );
    return { campaigns: await listCampaigns(database, query) };
  });

  app.post('/api/campaigns', async (request, reply) => {
    const document = documentOf(request.body) as { id?: unknown } | undefined;
    if (typeof document?.id === 'string') {
      const exists = await getCampaignSummary(database, document.id).then(
        () => true,
        () => false,
      );
      if (exists)
        throw new UserError(
          `A campaign ${document.id} already exists; change it with PUT /api/campaigns/${document.id}.`,
          { status: 409 },
        );
    }
    const { campaign } = await saveCampaign(database, document);
    return reply.status(201).send(campaign);
  });

  app.put('/api/campaigns/:id', async (request) => {
    const { id } = request.params as { id: string };
    const document = documentOf(request.body) as Record<string, unknown> | undefined;
    if (document && typeof document === 'object' && document.id !== undefined && document.id !== id) {
      throw new UserError(`The document's id (${JSON.stringify(document.id)}) is not ${id}.`);
    }
    return (await saveCampaign(database, { ...document, id })).campaign;
  });

  app.get('/api/campaigns/:id', async (request, reply) => {
    const { id } = request.params as { id: string };
    const { format } = parseInput(
      z.object({ format: z.enum(['json', 'yaml']).default('json') }),
      request.query,
      'query',
    );
    if (format === 'yaml')
      return reply.type('application/yaml; charset=utf-8').send(await exportCampaign(database, id));
    return { ...(await getCampaignSummary(database, id)), document: await getCampaignDocument(database, id) };
  });

  app.delete('/api/campaigns/:id', async (request, reply) => {
    await deleteCampaign(database, (request.params as { id: string }).id);
    return reply.status(204).send();
  });

  app.post('/api/campaigns/validate', async (request) =>
    graphOf(await validateCampaign(database, documentOf(request.body))),
  );

  app.post('/api/campaigns/:id/validate', async (request) =>
    graphOf(
      await validateCampaign(
        database,
        await getCampaignDocument(database, (request.params as { id: string }).id),
      ),
    ),
  );
}
