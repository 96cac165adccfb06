import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { sql } from 'kysely';
import { from as copyFrom } from 'pg-copy-streams';
import { formatIsoDatetime } from '../../db/dialect.ts';
import type { CellValue, ColumnType } from '../../schema/types.ts';
import { STAGE, TableWriter, type StagedRow } from './table-writer.ts';

/** PostgreSQL: rows reach the staging table through COPY, the fastest way into the server. */
export class PostgresTableWriter extends TableWriter {
  async open(): Promise<void> {
    await this.run(sql`DROP TABLE IF EXISTS pg_temp.${this.stage}`);
    await this.run(sql`CREATE TEMP TABLE ${this.stage} (${this.stageColumnsDdl()})`);
  }

  protected async fillStage(rows: StagedRow[]): Promise<void> {
    if (this.ctx.connection.kind !== 'postgres') throw new Error('PostgresTableWriter needs a PostgreSQL connection');
    const types = this.ctx.columns.map((c) => c.type);
    const names = this.ctx.columns.map((c) => `"${c.name}"`).join(', ');
    const copy = this.ctx.connection.client.query(copyFrom(`COPY ${STAGE} (_line, _op, ${names}) FROM STDIN`));
    await pipeline(Readable.from(copyLines(rows, types)), copy);
  }
}

/** Yields COPY text-format chunks of about 64 KiB. */
function* copyLines(rows: StagedRow[], types: ColumnType[]): Generator<string> {
  let chunk = '';
  for (const row of rows) {
    let line = `${row.line}\t${row.op}`;
    for (let i = 0; i < types.length; i++) line += `\t${copyText(types[i]!, row.values[i]!)}`;
    chunk += `${line}\n`;
    if (chunk.length > 65_536) {
      yield chunk;
      chunk = '';
    }
  }
  if (chunk) yield chunk;
}

const COPY_ESCAPES: Record<string, string> = { '\\': '\\\\', '\t': '\\t', '\n': '\\n', '\r': '\\r' };

function copyText(type: ColumnType, value: CellValue): string {
  if (value === null) return '\\N';
  switch (type) {
    case 'string':
      return (value as string).replace(/[\\\t\n\r]/g, (ch) => COPY_ESCAPES[ch]!);
    case 'boolean':
      return value ? 't' : 'f';
    case 'datetime':
      return formatIsoDatetime(value as number);
    default:
      return String(value);
  }
}
