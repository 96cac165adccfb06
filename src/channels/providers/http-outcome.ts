import type { SendResult } from '../types.ts';

/**
 * The parts of an HTTP provider's answer that mean the same thing for every API: 429 and 5xx are worth
 * trying again (after Retry-After when the API says), a request that never got an answer too.
 */

/** Retry-After as milliseconds: a number of seconds, or an HTTP date. */
export function retryAfterMs(value: string | null, now = Date.now()): number | undefined {
  if (!value) return undefined;
  if (/^\d+$/.test(value.trim())) return Number(value.trim()) * 1000;
  const at = Date.parse(value);
  return Number.isNaN(at) ? undefined : Math.max(0, at - now);
}

export function isRetryableStatus(status: number): boolean {
  return status === 429 || status >= 500;
}

export function retryableAnswer(response: Response, detail: string): SendResult {
  const retryAfter = retryAfterMs(response.headers.get('retry-after'));
  return {
    status: 'transient',
    reason: `HTTP ${response.status}${detail ? `: ${detail}` : ''}`,
    ...(retryAfter === undefined ? {} : { retryAfterMs: retryAfter }),
  };
}

/** A request that failed before an answer: refused, reset, timed out. */
export function networkFailure(error: unknown): SendResult {
  const failure = error as Error & { cause?: { code?: string; message?: string } };
  if (failure.name === 'TimeoutError') return { status: 'transient', reason: 'no answer before the timeout' };
  const cause = failure.cause?.code ?? failure.cause?.message;
  return { status: 'transient', reason: cause ? `${failure.message} (${cause})` : failure.message };
}

/** The body of an answer as JSON, or undefined when it is not JSON (an HTML error page from a proxy). */
export async function jsonBody(response: Response): Promise<unknown> {
  const text = await response.text();
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}
