import { pino, type DestinationStream, type Logger } from 'pino';
import type { LogFormat, LogLevel } from '../config.ts';

export interface LoggerSettings {
  level: LogLevel;
  /** Undefined: pretty on a terminal, JSON lines otherwise (files, pipes, log collectors). */
  format?: LogFormat | undefined;
  /** Where lines go (default stdout); tests read them back. */
  destination?: DestinationStream;
}

/**
 * The one pino logger of a process (the server hands it to fastify, `baton worker` logs through it).
 * Errors logged under `error` are serialized like `err`: the existing code logs `{ error }`, which pino
 * would otherwise write as `{}`.
 */
export function createLogger(settings: LoggerSettings): Logger {
  const format = settings.format ?? (process.stdout.isTTY ? 'pretty' : 'json');
  const out = settings.destination ?? process.stdout;
  const destination: DestinationStream | undefined =
    format === 'json' ? settings.destination : { write: (line: string) => void out.write(prettyLine(line)) };
  return pino(
    {
      level: settings.level,
      serializers: { err: pino.stdSerializers.err, error: pino.stdSerializers.err },
    },
    destination,
  );
}

const LEVEL_NAMES: Record<number, string> = pino.levels.labels;
/** What every line carries: a terminal reader does not need them repeated. */
const OMITTED = new Set(['level', 'time', 'msg', 'pid', 'hostname']);

/** A pino JSON line as a short human line: `12:04:05 WARN  message key=value`, an error's stack below. */
export function prettyLine(json: string): string {
  let entry: Record<string, unknown>;
  try {
    entry = JSON.parse(json) as Record<string, unknown>;
  } catch {
    return json;
  }
  const time = typeof entry.time === 'number' ? new Date(entry.time).toLocaleTimeString('en-GB') : '';
  const level = (LEVEL_NAMES[entry.level as number] ?? String(entry.level)).toUpperCase().padEnd(5);
  const fields: string[] = [];
  const stacks: string[] = [];
  for (const [key, value] of Object.entries(entry)) {
    if (OMITTED.has(key)) continue;
    if (isSerializedError(value)) {
      fields.push(`${key}=${JSON.stringify(value.message)}`);
      stacks.push(value.stack.replace(/^/gm, '    '));
    } else {
      fields.push(
        `${key}=${typeof value === 'string' && /^\S+$/.test(value) ? value : JSON.stringify(value)}`,
      );
    }
  }
  const message = typeof entry.msg === 'string' ? entry.msg : '';
  return `${[time, level, message, ...fields].filter((part) => part !== '').join(' ')}\n${stacks.map((s) => `${s}\n`).join('')}`;
}

function isSerializedError(value: unknown): value is { message: string; stack: string } {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as { message?: unknown }).message === 'string' &&
    typeof (value as { stack?: unknown }).stack === 'string'
  );
}
