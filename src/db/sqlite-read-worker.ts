import { parentPort, workerData } from 'node:worker_threads';
import { openSqliteConnection } from './database.ts';
import type { ReadRequest, ReadResponse } from './sqlite-reader.ts';

/**
 * Runs read-only statements on a connection of its own, so that a long count or aggregation over a large
 * SQLite workspace never blocks the server's event loop (WAL lets it read while others write).
 */
const port = parentPort!;
const connection = openSqliteConnection((workerData as { data: { file: string } }).data.file);
connection.pragma('query_only = ON');

port.on('message', (request: ReadRequest) => {
  let response: ReadResponse;
  try {
    const rows = connection.prepare(request.sql).all(...(request.parameters as unknown[]));
    response = { id: request.id, rows: rows as Array<Record<string, unknown>> };
  } catch (error) {
    const { message, code } = error as { message: string; code?: string };
    response = { id: request.id, error: { message, code } };
  }
  port.postMessage(response);
});
