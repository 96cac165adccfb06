import { describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { createLogger } from '../../src/operations/logger.ts';

/** The shared pino logger: JSON lines or a short human format, and errors logged whole. */

function capture() {
  const lines: string[] = [];
  return { lines, destination: { write: (line: string) => void lines.push(line) } };
}

describe('logger', () => {
  it('writes JSON lines, serializing an error logged under `error` or `err`', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', format: 'json', destination });
    log.debug('not at this level');
    log.info({ worker: 'w1' }, 'started');
    log.error({ error: new Error('boom') }, 'sending failed');
    log.error({ err: new TypeError('bad') }, 'again');
    const entries = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(entries.map((e) => [e.level, e.msg])).toEqual([
      [30, 'started'],
      [50, 'sending failed'],
      [50, 'again'],
    ]);
    expect(entries[0]).toMatchObject({ worker: 'w1', pid: process.pid });
    expect(entries[1]!.error).toMatchObject({ type: 'Error', message: 'boom' });
    expect((entries[1]!.error as { stack: string }).stack).toContain('logger.test.ts');
    expect(entries[2]!.err).toMatchObject({ type: 'TypeError', message: 'bad' });
  });

  it('writes a short human line in the pretty format, an error stack indented below', () => {
    const { lines, destination } = capture();
    const log = createLogger({ level: 'info', format: 'pretty', destination });
    log.warn({ channel: 'email', detail: 'two words', n: 3 }, 'slow provider');
    log.error({ error: new Error('boom') }, 'sending failed');
    expect(lines[0]).toMatch(/^\d\d:\d\d:\d\d WARN {2}slow provider channel=email detail="two words" n=3\n$/);
    const [first, ...stack] = lines[1]!.trimEnd().split('\n');
    expect(first).toMatch(/^\d\d:\d\d:\d\d ERROR sending failed error="boom"$/);
    expect(stack[0]).toBe('    Error: boom');
    expect(stack.slice(1).every((line) => line.startsWith('        at '))).toBe(true);
  });

  it('reads LOG_LEVEL and LOG_FORMAT, refusing values it does not know', () => {
    expect(loadConfig({}, '/nonexistent')).toMatchObject({ logLevel: undefined, logFormat: undefined });
    expect(loadConfig({ LOG_LEVEL: 'debug', LOG_FORMAT: 'pretty' }, '/nonexistent')).toMatchObject({
      logLevel: 'debug',
      logFormat: 'pretty',
    });
    expect(() => loadConfig({ LOG_FORMAT: 'xml' }, '/nonexistent')).toThrow(
      'LOG_FORMAT must be one of json, pretty, not "xml".',
    );
    expect(() => loadConfig({ LOG_LEVEL: 'loud' }, '/nonexistent')).toThrow(
      /LOG_LEVEL must be one of fatal, error/,
    );
  });
});
