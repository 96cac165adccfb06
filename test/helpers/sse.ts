/**
 * A server-sent events client for tests, on Node's `fetch`: it reads the body as it comes and parses the
 * frames itself (as an EventSource would: `event:`, `id:`, `data:` lines, comments ignored), so a test
 * sees exactly what went over the wire and when the server closed the stream.
 */
export interface SseFrame {
  event: string;
  id: string | undefined;
  data: string;
}

export interface SseStream {
  status: number;
  headers: Headers;
  /** The body of an answer that is not a stream (an error). */
  text: string;
  /** The frames in order; finishes when the server ends the stream. */
  frames: AsyncGenerator<SseFrame, void, undefined>;
}

export async function openSse(
  url: string,
  init: { headers?: Record<string, string>; signal?: AbortSignal } = {},
): Promise<SseStream> {
  const response = await fetch(url, {
    headers: { accept: 'text/event-stream', ...init.headers },
    signal: init.signal,
  });
  const streaming = response.ok && response.headers.get('content-type')?.startsWith('text/event-stream');
  if (!streaming || !response.body) {
    return {
      status: response.status,
      headers: response.headers,
      text: await response.text(),
      frames: none(),
    };
  }
  return { status: response.status, headers: response.headers, text: '', frames: parse(response.body) };
}

async function* none(): AsyncGenerator<SseFrame, void, undefined> {}

async function* parse(body: ReadableStream<Uint8Array>): AsyncGenerator<SseFrame, void, undefined> {
  const decoder = new TextDecoder();
  let buffered = '';
  let frame: { event?: string; id?: string; data: string[] } = { data: [] };
  for await (const chunk of body) {
    buffered += decoder.decode(chunk, { stream: true });
    let end: number;
    while ((end = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, end).replace(/\r$/, '');
      buffered = buffered.slice(end + 1);
      if (line === '') {
        // A frame without data (a `retry:` line alone) is not dispatched, as in an EventSource.
        if (frame.data.length > 0)
          yield { event: frame.event ?? 'message', id: frame.id, data: frame.data.join('\n') };
        frame = { data: [] };
        continue;
      }
      if (line.startsWith(':')) continue;
      const colon = line.indexOf(':');
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? '' : line.slice(colon + 1).replace(/^ /, '');
      if (field === 'event') frame.event = value;
      else if (field === 'id') frame.id = value;
      else if (field === 'data') frame.data.push(value);
    }
  }
}

/** Reads frames until one satisfies `stop` (included) or the stream ends; the parsed `data` of each. */
export async function readUntil<T>(
  frames: AsyncGenerator<SseFrame, void, undefined>,
  stop: (event: T, frame: SseFrame) => boolean,
): Promise<Array<{ frame: SseFrame; event: T }>> {
  const read: Array<{ frame: SseFrame; event: T }> = [];
  for (;;) {
    const next = await frames.next();
    if (next.done) return read;
    const event = JSON.parse(next.value.data) as T;
    read.push({ frame: next.value, event });
    if (stop(event, next.value)) return read;
  }
}
