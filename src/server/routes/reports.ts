import type { FastifyInstance } from 'fastify';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { BREAKDOWNS, reportBreakdown } from '../../reporting/breakdowns.ts';
import { breakdownCsv, reportCsv } from '../../reporting/csv.ts';
import { campaignReport } from '../../reporting/report.ts';
import { parseInput, queryInt } from '../validate.ts';

const filters = z.object({
  run: z.string().min(1).optional(),
  activity: z.string().min(1).optional(),
  from: z.string().min(1).optional(),
  to: z.string().min(1).optional(),
  /** `human=false` counts machine events in the main figures too (the UI's "human only" switch). */
  human: z.enum(['true', 'false']).optional(),
  format: z.enum(['json', 'csv']).default('json'),
});

const toFilters = (q: z.infer<typeof filters>) => ({
  run: q.run,
  activity: q.activity,
  from: q.from,
  to: q.to,
  includeMachine: q.human === 'false',
});

/** A campaign's report and its breakdowns, as JSON or CSV (docs/reports.md). */
export function reportRoutes(app: FastifyInstance, database: Database): void {
  app.get('/api/campaigns/:id/report', async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const query = parseInput(filters, request.query, 'query');
    const report = await campaignReport(database, id, toFilters(query));
    if (query.format === 'json') return report;
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="report-${id}.csv"`)
      .send(reportCsv(report));
  });

  app.get('/api/campaigns/:id/report/breakdown', async (request, reply) => {
    const id = (request.params as { id: string }).id;
    const query = parseInput(
      filters.extend({ by: z.enum(BREAKDOWNS), limit: queryInt(1, 10_000).optional() }),
      request.query,
      'query',
    );
    const breakdown = await reportBreakdown(database, id, query.by, {
      ...toFilters(query),
      limit: query.limit,
    });
    if (query.format === 'json') return breakdown;
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="report-${id}-${query.by}.csv"`)
      .send(breakdownCsv(breakdown));
  });
}
