import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/database.ts';
import { liveProcesses, schedulerLeader } from '../../operations/process-registry.ts';

/**
 * `/healthz`: 503 only when the database does not answer. Processes and the scheduler's leader are
 * reported, not judged: how many workers a deployment expects, and whether it schedules at all, is for
 * the monitor to say. Two small queries, since it is polled while large runs go on.
 */
export function healthRoutes(app: FastifyInstance, database: Database): void {
  app.get('/healthz', async (_request, reply) => {
    try {
      const [schema, processes] = await Promise.all([
        database.db
          .selectFrom('workspace_schemas')
          .select((eb) => eb.fn.max('version').as('version'))
          .executeTakeFirst(),
        liveProcesses(database),
      ]);
      return {
        status: 'ok',
        database: database.kind,
        schemaVersion: schema?.version ?? null,
        processes: {
          servers: processes.filter((p) => p.kind === 'server').length,
          workers: processes.filter((p) => p.kind === 'worker').length,
        },
        scheduler: { leader: schedulerLeader(processes) },
      };
    } catch (error) {
      return reply
        .status(503)
        .send({ status: 'unavailable', database: database.kind, error: (error as Error).message });
    }
  });
}
