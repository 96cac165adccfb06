import { realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { CsvReader } from '../data/import/csv-reader.ts';
import type { Rejection } from '../data/import/types.ts';
import { insertPackedRows } from '../data/insert-packed-rows.ts';
import { formatProblem } from '../data/value-formats.ts';
import type { PackedRows } from '../data/import/packed-rows.ts';
import { FILE_DIMENSION, type ExtraColumn } from '../engine/working-tables.ts';
import { UserError, unreadableFile, type Issue } from '../errors.ts';
import { COLUMN_TYPES, type ColumnType } from '../schema/types.ts';
import { defineActivity, MAIN } from './types.ts';

/** Rows read at a time: a batch is checked, then written, while the file's next stretch waits. */
const BATCH_ROWS = 10_000;
/** Rejected lines the log names when they are skipped (all of them are counted). */
const REJECTS_LOGGED = 5;

const DELIMITERS = { ',': ',', ';': ';', tab: '\t' } as const;
/** The key of a file's rows: the line number, which no declared column may be named. */
const LINE = FILE_DIMENSION.primaryKey[0]!;

/** The rows of a CSV file, with declared column types, to reconcile with a dimension or enrich. */
export const loadFile = defineActivity({
  type: 'load-file',
  label: 'Load file',
  category: 'targeting',
  description: 'reads a CSV file into the campaign',
  inputs: 'optional',
  config: z.strictObject({
    /** A path inside the data folder's files/ folder. */
    file: z.string().min(1),
    columns: z
      .array(
        z.strictObject({
          name: z.string().regex(/^[a-z_][a-z0-9_]*$/),
          type: z.enum(COLUMN_TYPES),
          /** The column's heading in the file (by default its name). */
          header: z.string().optional(),
          /** How its values are written when not in Baton's canonical form (src/data/value-formats.ts). */
          format: z.string().min(1).max(100).optional(),
        }),
      )
      .min(1),
    delimiter: z.enum([',', ';', 'tab']).optional(),
    /** Rows that do not fit their columns: skipped (and counted), or the activity fails. */
    rejects: z.enum(['skip', 'fail']).default('fail'),
  }),
  outputs: () => [MAIN],
  check(config, ctx) {
    const names = config.columns.map((c) => c.name);
    const issues: Issue[] = [];
    const problem = filePathProblem(config.file);
    if (problem) issues.push({ path: `${ctx.path}.file`, message: problem });
    names.forEach((n, i) => {
      const at = `${ctx.path}.columns[${i}].name`;
      if (names.indexOf(n) !== i) issues.push({ path: at, message: `column ${n} is declared twice` });
      const { type, format } = config.columns[i]!;
      const wrong = format === undefined ? undefined : formatProblem(type, format);
      if (wrong) issues.push({ path: `${ctx.path}.columns[${i}].format`, message: wrong });
      if (n === LINE)
        issues.push({ path: at, message: `${LINE} is the line number of each row; choose another name` });
    });
    return {
      population: { kind: 'file', columns: declared(config.columns) },
      issues,
    };
  },
  async execute(config, ctx) {
    const file = await locate(ctx.filesDir, config.file);
    const reader = new CsvReader({
      kind: ctx.database.kind,
      file,
      delimiter: config.delimiter && DELIMITERS[config.delimiter],
      target: {
        kind: 'columns',
        columns: config.columns.map(({ name, type, header, format }) => ({
          column: { name, type, format },
          heading: header ?? name,
        })),
      },
      batchRows: BATCH_ROWS,
    });
    const skipped: Rejection[] = [];
    let rejected = 0;
    async function* batches(): AsyncGenerator<PackedRows> {
      let header = false;
      for await (const message of reader) {
        switch (message.type) {
          case 'failed':
            throw message.user
              ? new UserError(`${config.file}: ${message.message}`)
              : new Error(message.message);
          case 'header':
            header = true;
            continue;
          case 'end':
            if (!header) throw new UserError(`${config.file} is empty: its first line must be the header`);
            return;
        }
        for (const { rejections } of message.rejected) {
          if (config.rejects === 'fail') {
            throw new UserError(
              `${config.file}, ${describeRejection(rejections[0]!)}; with rejects: skip, such lines are left out`,
            );
          }
          if (skipped.length < REJECTS_LOGGED) skipped.push(rejections[0]!);
          rejected++;
        }
        yield message.rows;
        reader.ack();
      }
    }
    try {
      await ctx.output(
        '',
        FILE_DIMENSION,
        (table, columns) =>
          insertPackedRows(
            ctx.database,
            table,
            columns.map((c) => c.name),
            batches(),
          ),
        { columns: declared(config.columns) },
      );
    } finally {
      await reader.stop();
    }
    if (rejected > 0) {
      const more = rejected > skipped.length ? '; …' : '';
      await ctx.log(
        `${rejected} line(s) rejected and left out (rejects: skip): ${skipped.map(describeRejection).join('; ')}${more}`,
      );
    }
  },
});

/** The declared columns as the working table's columns (and the population's, for later checks). */
function declared(columns: Array<{ name: string; type: ColumnType }>): ExtraColumn[] {
  return columns.map(({ name, type }) => ({ name, type }));
}

function describeRejection(r: Rejection): string {
  const value = r.value === null ? '' : ` (${JSON.stringify(r.value)})`;
  return `line ${r.line}${r.column ? `, column ${r.column}${value}` : ''}: ${r.reason}`;
}

/**
 * Why a `file` setting cannot name a file inside the files folder, without looking at the disk (the
 * campaign is checked where the folder may not be). `locate` makes sure at run time, links included.
 */
function filePathProblem(file: string): string | undefined {
  if (path.posix.isAbsolute(file) || path.win32.isAbsolute(file))
    return `${file} is an absolute path; give a path inside the data folder's files/ folder`;
  if (file.split(/[\\/]/).includes('..'))
    return `${file} goes up with ..; give a path inside the data folder's files/ folder`;
  return undefined;
}

/** The file's real path, which must lie inside `folder`; a user error says where to put a missing file. */
async function locate(folder: string, file: string): Promise<string> {
  const problem = filePathProblem(file);
  if (problem) throw new UserError(`${problem} (${folder})`);
  let real: string;
  try {
    real = await realpath(path.resolve(folder, file));
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT')
      throw new UserError(`${file} is not in the files folder: put it at ${path.join(folder, file)}`);
    throw unreadableFile(file, error);
  }
  const inside = path.relative(await realpath(folder), real);
  if (inside === '..' || inside.startsWith(`..${path.sep}`) || path.isAbsolute(inside))
    throw new UserError(`${file} leads outside the files folder ${folder} (through a link): refused`);
  if (!(await stat(real)).isFile()) throw new UserError(`${file} is a folder, not a file (in ${folder})`);
  return real;
}
