import type { Database } from '../db/database.ts';

export type LogLevel = 'debug' | 'info' | 'warning' | 'error';

/**
 * Structured fields of a log line: what a script or the monitor filters and charts on (rows, ms, port,
 * event) besides the sentence a person reads.
 */
export type LogFields = Record<string, string | number | boolean | null>;

/** Writes one log line of a run (of one of its tasks when `activity` is given). */
export async function writeRunLog(
  database: Database,
  run: string,
  activity: string | null,
  level: LogLevel,
  message: string,
  fields?: LogFields,
): Promise<void> {
  await database.db
    .insertInto('run_logs')
    .values({
      run_id: run,
      activity,
      level,
      message,
      fields: fields ? JSON.stringify(fields) : null,
      at: new Date().toISOString(),
    })
    .execute();
}
