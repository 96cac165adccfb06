import { createWriteStream, rmSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import multipart from '@fastify/multipart';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { UserError } from '../errors.ts';

/** Uploads larger than this are refused (the reference product allows 100 MB; we allow more). */
export const MAX_UPLOAD_BYTES = 1024 * 1024 * 1024;

/**
 * Registers the routes that take files in a scope of their own, the only one that parses multipart
 * bodies: registered app-wide, the multipart plugin's per-request hook ran on every request, the
 * tracking pixel's included (measured: a tenth of its throughput).
 */
export function uploadRoutes(app: FastifyInstance, routes: (scope: FastifyInstance) => void): void {
  void app.register(async (scope) => {
    await scope.register(multipart, { limits: { fileSize: MAX_UPLOAD_BYTES, files: 1 } });
    routes(scope);
  });
}

/**
 * Writes an uploaded file (a multipart `file` field, or the raw body) to `file` as it arrives, never
 * buffered whole; returns the name the client gave it, if any. Over the upload limit: 413, nothing kept.
 */
export async function receiveUpload(request: FastifyRequest, file: string): Promise<string | undefined> {
  let source: Readable;
  let name: string | undefined;
  if (request.isMultipart()) {
    const part = await request.file();
    if (!part) throw new UserError('The multipart body has no file; send the CSV in a field named "file".');
    source = part.file;
    name = part.filename || undefined;
  } else if (request.body && typeof (request.body as Readable).pipe === 'function') {
    source = request.body as Readable;
  } else {
    throw new UserError(
      'Send the CSV as the request body (Content-Type: text/csv) or as multipart field "file".',
    );
  }
  await pipeline(source, createWriteStream(file));
  if ('truncated' in source && source.truncated) {
    rmSync(file, { force: true });
    throw new UserError('The file is larger than the upload limit.', { status: 413 });
  }
  return name;
}
