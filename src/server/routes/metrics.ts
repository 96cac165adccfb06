import type { FastifyInstance } from 'fastify';
import type { Database } from '../../db/database.ts';
import {
  databaseMetrics,
  databaseUp,
  formatMetrics,
  startProcessMetrics,
  type MetricFamily,
} from '../../operations/metrics.ts';

/** `/metrics` for Prometheus (docs/operations.md). */
export function metricsRoutes(app: FastifyInstance, database: Database): void {
  const processMetrics = startProcessMetrics();
  app.addHook('onClose', (_instance, done) => {
    processMetrics.stop();
    done();
  });
  app.get('/metrics', async (_request, reply) => {
    let baton: MetricFamily[];
    // The process metrics are still worth a scrape when the database is down; baton_database_up says it is.
    try {
      baton = [databaseUp(true), ...(await databaseMetrics(database))];
    } catch (error) {
      app.log.warn({ error }, 'the metric queries failed');
      baton = [databaseUp(false)];
    }
    return reply
      .type('text/plain; version=0.0.4; charset=utf-8')
      .send(formatMetrics([...baton, ...processMetrics.collect()]));
  });
}
