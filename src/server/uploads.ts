import { createWriteStream, rmSync } from 'node:fs';
import type { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { FastifyRequest } from 'fastify';
import { UserError } from '../errors.ts';

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
