import { statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import type { Worker } from 'node:worker_threads';
import { bulkValuesFor, type DatabaseKind } from '../../db/bulk-values.ts';
import { isUserError, type Issue } from '../../errors.ts';
import type { TableDef } from '../../schema/types.ts';
import { startWorker } from '../../workers/start-worker.ts';
import { CsvScanner, type CsvRecordView, type Delimiter } from '../csv-scanner.ts';
import { findHeadings, mapHeader, type HeadedColumn, type HeaderMapping } from './header-mapping.ts';
import { RecordReader } from './record-reader.ts';
import { PackedRowsBuilder, type PackedRows } from './packed-rows.ts';
import type { ImportMode, Rejection } from './types.ts';

/**
 * The reading half of an import (and of a campaign's load-file): the file becomes a header message, then
 * batches of checked rows (with the rejected records of the same stretch), then an end message. Large
 * files are read in a worker thread so that parsing runs while the main thread writes; small ones on the
 * main thread, where a worker's start-up would cost more than it saves.
 */
export interface CsvReaderSetup {
  /** The database the rows are for: values are encoded for its bulk path. */
  kind: DatabaseKind;
  file: string;
  delimiter: Delimiter | undefined;
  target: CsvTarget;
  /** Accepted rows per batch. */
  batchRows: number;
  /** Read in a worker thread; by default only files of WORKER_FROM_BYTES or more are. */
  inWorker?: boolean;
}

/**
 * What the rows are for: a table of the workspace (an import: the header is matched to its columns), or a
 * loaded file's declared columns (load-file: found by heading, other fields ignored, each row led by its
 * line number).
 */
export type CsvTarget =
  | { kind: 'table'; table: TableDef; mode: ImportMode; mapping: Record<string, string | null> | undefined }
  | { kind: 'columns'; columns: HeadedColumn[] };

export type CsvReaderMessage =
  | { type: 'header'; header: Array<string | null>; mapping: HeaderMapping }
  | {
      type: 'batch';
      rows: PackedRows;
      /** Rejected records of this stretch of the file, in line order, with their fields for the rejects CSV. */
      rejected: Array<{ rejections: Rejection[]; fields: Array<string | null> }>;
      rowsRead: number;
      bytesRead: number;
    }
  | { type: 'end'; rowsRead: number; bytesRead: number }
  | { type: 'failed'; user: boolean; message: string; issues: Issue[] };

/** Files from this size on are read in a worker thread. */
export const WORKER_FROM_BYTES = 8 * 1024 * 1024;
/** Batches the reader may be ahead of the writer. */
const AHEAD = 2;

/** Bytes read from the file at a time. */
const READ_BYTES = 1 << 20;

/** Reads the whole file, emitting messages; `credit()` resolves when another batch may be sent. */
export async function produceBatches(
  setup: CsvReaderSetup,
  emit: (message: CsvReaderMessage) => void,
  credit: () => Promise<void>,
): Promise<void> {
  try {
    const scanner = new CsvScanner(setup.delimiter);
    const values = bulkValuesFor(setup.kind);
    let mapping: HeaderMapping | undefined;
    let rows: PackedRowsBuilder | undefined;
    let reader: RecordReader | undefined;
    let rejected: Extract<CsvReaderMessage, { type: 'batch' }>['rejected'] = [];
    let rowsRead = 0;
    let bytesRead = 0;
    const send = async () => {
      await credit();
      emit({ type: 'batch', rows: rows!.take(), rejected, rowsRead, bytesRead });
      rejected = [];
    };
    /** Returns true when the batch is full: the scan pauses while it is sent. */
    const handle = (record: CsvRecordView): boolean => {
      if (!mapping) {
        const header = record.texts();
        const target = setup.target;
        if (target.kind === 'table') {
          mapping = mapHeader(header, target.table, target.mode, target.mapping);
          reader = new RecordReader(mapping, target.table.primaryKey, target.mode, values);
        } else {
          mapping = findHeadings(header, target.columns);
          reader = new RecordReader(mapping, [], 'insert', values, true);
        }
        rows = new PackedRowsBuilder(
          setup.kind,
          mapping.columns.length + (target.kind === 'columns' ? 1 : 0),
        );
        emit({ type: 'header', header, mapping });
        return false;
      }
      rowsRead++;
      const result = reader!.read(record, rows!);
      if (Array.isArray(result)) rejected.push({ rejections: result, fields: record.texts() });
      return rows!.count >= setup.batchRows;
    };
    const drain = async (final: boolean) => {
      while (scanner.drain(final, handle)) await send();
      // Rejections travel chunk by chunk, so a file of bad rows reaches --max-errors early.
      if (rejected.length > 0) await send();
    };
    const file = await open(setup.file, 'r');
    try {
      const chunk = Buffer.allocUnsafeSlow(READ_BYTES);
      for (;;) {
        const { bytesRead: read } = await file.read(chunk, 0, READ_BYTES, null);
        if (read === 0) break;
        bytesRead += read;
        scanner.push(chunk.subarray(0, read));
        await drain(false);
      }
      await drain(true);
    } finally {
      await file.close();
    }
    if ((rows?.count ?? 0) > 0) await send();
    emit({ type: 'end', rowsRead, bytesRead });
  } catch (error) {
    emit(
      isUserError(error)
        ? { type: 'failed', user: true, message: error.message, issues: error.issues }
        : { type: 'failed', user: false, message: (error as Error).message, issues: [] },
    );
  }
}

/** The main thread's side: the reader's messages as an async iterator; `ack()` asks for one more batch. */
export class CsvReader implements AsyncIterable<CsvReaderMessage> {
  private readonly queue: CsvReaderMessage[] = [];
  private waiting: (() => void) | undefined;
  private crashed: Error | undefined;
  private readonly worker: Worker | undefined;
  private credits = AHEAD;
  private creditWaiter: (() => void) | undefined;
  private stopped = false;

  constructor(setup: CsvReaderSetup) {
    const receive = (message: CsvReaderMessage) => {
      this.queue.push(message);
      this.wake();
    };
    if (!(setup.inWorker ?? statSync(setup.file).size >= WORKER_FROM_BYTES)) {
      void produceBatches(setup, receive, async () => {
        while (this.credits <= 0 && !this.stopped) {
          await new Promise<void>((resolve) => (this.creditWaiter = resolve));
        }
        // Throwing ends the producer (and closes its file) once the import no longer listens.
        if (this.stopped) throw new Error('the import stopped reading');
        this.credits--;
      });
      return;
    }
    this.worker = startWorker(new URL('./csv-reader-worker.ts', import.meta.url), setup);
    for (let i = 0; i < AHEAD; i++) this.worker.postMessage('ack');
    this.worker.on('message', receive);
    this.worker.on('error', (error) => {
      this.crashed = error;
      this.wake();
    });
    this.worker.on('exit', () => {
      this.crashed ??= new Error('the CSV reading worker stopped unexpectedly');
      this.wake();
    });
  }

  private wake(): void {
    this.waiting?.();
    this.waiting = undefined;
  }

  /** The main thread is done with a batch: the reader may go one more ahead. */
  ack(): void {
    if (this.worker) {
      this.worker.postMessage('ack');
      return;
    }
    this.credits++;
    this.creditWaiter?.();
    this.creditWaiter = undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    this.creditWaiter?.();
    await this.worker?.terminate();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CsvReaderMessage> {
    for (;;) {
      const message = this.queue.shift();
      if (message) {
        yield message;
        if (message.type === 'end' || message.type === 'failed') return;
        continue;
      }
      if (this.crashed) throw this.crashed;
      await new Promise<void>((resolve) => (this.waiting = resolve));
    }
  }
}
