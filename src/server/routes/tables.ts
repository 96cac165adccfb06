import { randomUUID } from 'node:crypto';
import { mkdirSync, rmSync } from 'node:fs';
import path from 'node:path';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { z } from 'zod';
import type { Database } from '../../db/database.ts';
import { getImport, listImports, rejectsCsv } from '../../data/import/import-history.ts';
import { importCsv } from '../../data/import/run-import.ts';
import { IMPORT_MODES } from '../../data/import/types.ts';
import { MAX_PAGE, countRows, readRows } from '../../data/table-rows.ts';
import { requireSchema, requireTable } from '../../schema/store.ts';
import { receiveUpload, uploadRoutes } from '../uploads.ts';
import { parseInput, queryFlag, queryInt } from '../validate.ts';

const importQuery = z.object({
  mode: z.enum(IMPORT_MODES).default('upsert'),
  maxErrors: queryInt(0, Number.MAX_SAFE_INTEGER).default(0),
  batchSize: queryInt(1, 10_000_000).optional(),
  delimiter: z
    .enum([',', ';', '\t', 'tab'])
    .optional()
    .transform((d) => (d === 'tab' ? '\t' : d)),
  dryRun: queryFlag,
  /** JSON object: CSV header → column (empty string to ignore the field). */
  mapping: z
    .string()
    .optional()
    .transform((text, ctx) => {
      if (text === undefined) return undefined;
      try {
        const value = JSON.parse(text) as unknown;
        if (typeof value === 'object' && value !== null && !Array.isArray(value))
          return value as Record<string, string | null>;
      } catch {
        // reported below
      }
      ctx.addIssue({
        code: 'custom',
        message: 'must be a JSON object such as {"E-mail":"email","Notes":""}',
      });
      return z.NEVER;
    }),
  fileName: z.string().max(255).optional(),
});

/** Saves the uploaded CSV to a temporary file of the uploads folder. */
async function receiveImport(
  request: FastifyRequest,
  folder: string,
): Promise<{ file: string; name: string }> {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, `${randomUUID()}.csv`);
  const name = await receiveUpload(request, file);
  return { file, name: name ?? 'upload.csv' };
}

export function tableRoutes(app: FastifyInstance, database: Database, uploadDir: string): void {
  app.get('/api/tables', async () => {
    const { schema } = await requireSchema(database);
    const tables = [];
    for (const t of schema.tables) {
      const [lastImport] = await listImports(database, { table: t.name, limit: 1 });
      tables.push({
        name: t.name,
        label: t.label ?? null,
        primaryKey: t.primaryKey,
        columns: t.columns.length,
        targeting: t.targeting !== undefined,
        rowCount: await countRows(database, t.name),
        lastImport: lastImport ?? null,
      });
    }
    return { tables };
  });

  app.get<{ Params: { table: string } }>('/api/tables/:table', async (request) => {
    const { schema } = await requireSchema(database);
    const table = requireTable(schema, request.params.table);
    const [lastImport] = await listImports(database, { table: table.name, limit: 1 });
    return { ...table, rowCount: await countRows(database, table.name), lastImport: lastImport ?? null };
  });

  app.get<{ Params: { table: string } }>('/api/tables/:table/rows', async (request) => {
    const query = parseInput(
      z.object({
        limit: queryInt(1, MAX_PAGE).default(50),
        offset: queryInt(0, Number.MAX_SAFE_INTEGER).default(0),
      }),
      request.query,
      'query',
    );
    return readRows(database, request.params.table, query);
  });

  uploadRoutes(app, (scope) =>
    scope.post<{ Params: { table: string } }>('/api/tables/:table/import', async (request, reply) => {
      const query = parseInput(importQuery, request.query, 'query');
      const { schema } = await requireSchema(database);
      requireTable(schema, request.params.table);
      const upload = await receiveImport(request, uploadDir);
      try {
        const report = await importCsv(database, {
          table: request.params.table,
          file: upload.file,
          fileName: query.fileName ?? upload.name,
          mode: query.mode,
          maxErrors: query.maxErrors,
          batchSize: query.batchSize,
          delimiter: query.delimiter,
          mapping: query.mapping,
          dryRun: query.dryRun,
        });
        // A refused import is the file's fault: 422, with the report saying which rows and why.
        return reply.status(report.status === 'succeeded' ? 200 : 422).send(report);
      } finally {
        rmSync(upload.file, { force: true });
      }
    }),
  );

  app.get('/api/imports', async (request) => {
    const query = parseInput(
      z.object({
        table: z.string().optional(),
        limit: queryInt(1, 500).default(50),
        offset: queryInt(0, Number.MAX_SAFE_INTEGER).default(0),
      }),
      request.query,
      'query',
    );
    return { imports: await listImports(database, query) };
  });

  app.get<{ Params: { id: string } }>('/api/imports/:id', (request) =>
    getImport(database, request.params.id),
  );

  app.get<{ Params: { id: string } }>('/api/imports/:id/rejects.csv', async (request, reply) => {
    const csv = await rejectsCsv(database, request.params.id);
    return reply
      .type('text/csv; charset=utf-8')
      .header('content-disposition', `attachment; filename="rejects-${request.params.id}.csv"`)
      .send(csv);
  });
}
