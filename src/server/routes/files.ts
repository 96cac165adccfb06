import type { FastifyInstance } from 'fastify';
import { deleteFile, listFiles, storeFile } from '../../data/files-folder.ts';
import { receiveUpload, uploadRoutes } from '../uploads.ts';

/** The files folder that campaigns load files from (load-file): list, upload (replacing), delete. */
export function fileRoutes(app: FastifyInstance, folder: string): void {
  app.get('/api/files', async () => ({ files: await listFiles(folder) }));

  uploadRoutes(app, (scope) =>
    scope.put('/api/files/:name', async (request, reply) => {
      const { name } = request.params as { name: string };
      const stored = await storeFile(folder, name, async (temporary) => {
        await receiveUpload(request, temporary);
      });
      return reply.status(201).send(stored);
    }),
  );

  app.delete('/api/files/:name', async (request, reply) => {
    await deleteFile(folder, (request.params as { name: string }).name);
    return reply.status(204).send();
  });
}
