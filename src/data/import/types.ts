import type { Delimiter } from '../csv-scanner.ts';

/**
 * - `insert`: new keys only; a key already in the table (or earlier in the file) rejects the row.
 * - `upsert`: insert or update by primary key; for a key given twice the last row wins.
 * - `delete`: the file lists keys to delete.
 * - `cdc`: change capture; a `_change` field says `u` (upsert) or `d` (delete) per row, the last row per key wins.
 */
export const IMPORT_MODES = ['insert', 'upsert', 'delete', 'cdc'] as const;
export type ImportMode = (typeof IMPORT_MODES)[number];

export interface Rejection {
  line: number;
  /** The column at fault, or null when the whole record is (wrong field count, broken quotes). */
  column: string | null;
  value: string | null;
  reason: string;
}

export interface ImportOptions {
  table: string;
  /** Path of the CSV file to read. */
  file: string;
  /** Name shown in reports and history (defaults to the file's base name). */
  fileName?: string;
  mode?: ImportMode;
  /** Rows that may be rejected before the whole import is aborted (default 0). */
  maxErrors?: number;
  delimiter?: Delimiter;
  /** CSV header → column; an empty or null target ignores that field. */
  mapping?: Record<string, string | null>;
  /** Commit every N rows instead of all-or-nothing. */
  batchSize?: number;
  /** Check and count everything, write nothing. */
  dryRun?: boolean;
  onProgress?: (progress: ImportProgress) => void;
  /** Parse in a worker thread (default: for files of 8 MiB or more; smaller ones are not worth its start). */
  readInWorker?: boolean;
  signal?: AbortSignal;
}

export interface ImportProgress {
  rowsRead: number;
  bytesRead: number;
  totalBytes: number;
  rejectedRows: number;
  elapsedMs: number;
  rowsPerSecond: number;
}

export type ImportStatus = 'running' | 'succeeded' | 'failed' | 'stopped' | 'interrupted';

export interface ImportReport {
  id: string;
  table: string;
  fileName: string;
  mode: ImportMode;
  dryRun: boolean;
  status: ImportStatus;
  rowsRead: number;
  inserted: number;
  updated: number;
  deleted: number;
  /** delete rows whose key was not in the table. */
  notFound: number;
  /** Rows superseded by a later row with the same key (upsert, cdc, delete). */
  duplicates: number;
  rejectedRows: number;
  /** Rows whose effect is committed (all of them on success; earlier batches when batch commits abort). */
  committedRows: number;
  /** The first rejections (all of them are in the rejects CSV). */
  rejections: Rejection[];
  message: string | null;
  startedAt: string;
  finishedAt: string | null;
  durationMs: number;
  rowsPerSecond: number;
}
