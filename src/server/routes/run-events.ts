import { once } from 'node:events';
import type { ServerResponse } from 'node:http';
import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { watchRun, type WatchedEvent } from '../../engine/run-events.ts';
import { LOG_LEVELS } from '../../engine/run-inspection.ts';
import { listCampaignRuns, listRunTasks, RUN_STATUSES, TASK_STATES } from '../../engine/run-lists.ts';
import { pageQuery, parseInput } from '../validate.ts';

/** A comment line this often keeps proxies and load balancers from closing a quiet stream. */
const HEARTBEAT_MS = 15_000;
/** How long an EventSource waits before reconnecting (the SSE `retry:` field). */
const RECONNECT_MS = 2_000;

/**
 * Monitoring runs: a run's live events over server-sent events (docs/monitoring.md), its tasks, and a
 * campaign's runs. The stream reads the database, so it follows a run whichever process executes it.
 */
export function runMonitorRoutes(app: FastifyInstance, database: Database): void {
  const streams = new Set<AbortController>();
  // Open streams would keep the server from closing: they end first.
  app.addHook('preClose', (done) => {
    for (const stream of streams) stream.abort();
    done();
  });

  app.get('/api/runs/:id/events', async (request, reply) => {
    const { id } = request.params as { id: string };
    const { level } = parseInput(
      z.object({ level: z.enum(LOG_LEVELS).default('info') }),
      request.query,
      'query',
    );
    const lastEventId = request.headers['last-event-id'];
    const stream = new AbortController();
    const events = watchRun(database, id, {
      signal: stream.signal,
      level,
      resumeFrom: typeof lastEventId === 'string' ? lastEventId : undefined,
    });
    // The snapshot is read before answering: an unknown run is a plain JSON 404, not a stream.
    const first = await events.next();
    reply.hijack();
    const response = reply.raw;
    response.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      // Not kept alive: once the run ends, the socket goes too (an EventSource reconnects on a new one),
      // rather than lingering idle and holding a closing server until the client's keep-alive timeout.
      connection: 'close',
      // nginx buffers responses by default, which would hold events back.
      'x-accel-buffering': 'no',
    });
    streams.add(stream);
    // The response's 'close' (not the request's, emitted once its empty body is read) says the client left.
    response.on('close', () => stream.abort());
    const heartbeat = setInterval(() => {
      if (!response.writableEnded && !response.destroyed) response.write(': heartbeat\n\n');
    }, HEARTBEAT_MS);
    try {
      response.write(`retry: ${RECONNECT_MS}\n\n`);
      for (let next = first; !next.done; next = await events.next())
        await send(response, next.value, stream.signal);
    } catch (error) {
      if (!stream.signal.aborted) request.log.error({ err: error, run: id }, 'run events stream failed');
    } finally {
      clearInterval(heartbeat);
      streams.delete(stream);
      stream.abort();
      await events.return();
      response.end();
    }
  });

  app.get('/api/runs/:id/tasks', async (request) => {
    const filter = parseInput(
      z.object({ state: z.enum(TASK_STATES).optional(), activity: z.string().min(1).optional() }),
      request.query,
      'query',
    );
    return { tasks: await listRunTasks(database, (request.params as { id: string }).id, filter) };
  });

  app.get('/api/campaigns/:id/runs', async (request) => {
    const query = parseInput(
      pageQuery(200).extend({
        mode: z.enum(['test', 'live']).optional(),
        status: z.enum(RUN_STATUSES).optional(),
      }),
      request.query,
      'query',
    );
    return listCampaignRuns(database, (request.params as { id: string }).id, query);
  });
}

async function send(response: ServerResponse, { id, event }: WatchedEvent, signal: AbortSignal) {
  // JSON on one line: a `data:` field ends at a newline, and JSON.stringify escapes those in strings.
  if (!response.write(`id: ${id}\nevent: ${event.type}\ndata: ${JSON.stringify(event)}\n\n`))
    await once(response, 'drain', { signal });
}
