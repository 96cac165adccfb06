import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import type { BatonConfig } from '../../src/config.ts';
import { buildApp } from '../../src/server/app.ts';
import type { TestDatabase } from './databases.ts';

/**
 * The app listening on a free port, called through Node's `fetch`, so content-type parsing, uploads and
 * status codes are exercised as a client sees them.
 */
export interface ApiResponse<T> {
  status: number;
  body: T;
  text: string;
  headers: Headers;
}

export type ApiCall = <T>(
  method: string,
  path: string,
  init?: { json?: unknown; body?: RequestInit['body']; headers?: Record<string, string> },
) => Promise<ApiResponse<T>>;

export async function startApi(
  t: TestDatabase,
  config: Partial<BatonConfig> = {},
): Promise<{ app: FastifyInstance; call: ApiCall; close: () => Promise<void> }> {
  const app = await buildApp(t.database, { ...config, dataDir: t.config.dataDir });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const base = `http://127.0.0.1:${(app.server.address() as AddressInfo).port}`;
  const call: ApiCall = async (method, path, init = {}) => {
    const headers = { ...init.headers };
    let body = init.body;
    if (init.json !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const response = await fetch(`${base}${path}`, { method, headers, body });
    const text = await response.text();
    const isJson = response.headers.get('content-type')?.startsWith('application/json') ?? false;
    return {
      status: response.status,
      body: (isJson ? JSON.parse(text) : undefined) as never,
      text,
      headers: response.headers,
    };
  };
  return { app, call, close: () => app.close() };
}
