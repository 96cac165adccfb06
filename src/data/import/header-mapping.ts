import type { ReadColumn } from './field-encoder.ts';
import { UserError, type Issue } from '../../errors.ts';
import type { ColumnDef, TableDef } from '../../schema/types.ts';
import type { ImportMode } from './types.ts';

/**
 * Matches the CSV header to the table's columns: exactly, then on normalised names (case, accents, spaces
 * and punctuation ignored), then through the user's explicit mapping, which wins over both. A header
 * that fits no column is an error unless the mapping ignores it, so a typo never silently drops data.
 */
export const CHANGE_COLUMN = '_change';
const CHANGE_ALIASES = new Set(['_change', '_change_request_type', 'change_request_type']);

export interface HeaderMapping {
  /** For each table column that the file fills, the index of its CSV field. */
  columns: Array<{ column: ColumnDef; field: number }>;
  /** Index of the `_change` field (cdc mode). */
  changeField: number | undefined;
  /** Number of fields a record must have. */
  width: number;
}

export function normaliseName(name: string): string {
  return name
    .normalize('NFD')
    .replace(/[\u0300-\u036f]/g, '')
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '_')
    .replace(/^_+|_+$/g, '');
}

export function mapHeader(
  header: Array<string | null>,
  table: TableDef,
  mode: ImportMode,
  explicit: Record<string, string | null> = {},
): HeaderMapping {
  const issues: Issue[] = [];
  const names = header.map((h) => (h ?? '').trim());
  const seen = new Map<string, number>();
  names.forEach((name, i) => {
    const first = seen.get(name);
    if (first !== undefined)
      issues.push({
        path: `header.${name || `(field ${i + 1})`}`,
        message: `appears twice (fields ${first + 1} and ${i + 1})`,
      });
    else seen.set(name, i);
  });
  for (const [from, to] of Object.entries(explicit)) {
    if (!seen.has(from))
      issues.push({
        path: `mapping.${from}`,
        message: `the file has no column "${from}" (it has: ${names.join(', ')})`,
      });
    if (to && to !== CHANGE_COLUMN && !table.columns.some((c) => c.name === to)) {
      issues.push({ path: `mapping.${from}`, message: `${table.name} has no column "${to}"` });
    }
  }
  const byExact = new Map(table.columns.map((c) => [c.name, c]));
  const byNormal = new Map(table.columns.map((c) => [normaliseName(c.name), c]));
  const taken = new Map<string, number>();
  const columns: HeaderMapping['columns'] = [];
  let changeField: number | undefined;
  names.forEach((name, field) => {
    let target: string | null | undefined;
    if (Object.hasOwn(explicit, name)) target = explicit[name] || null;
    else if (CHANGE_ALIASES.has(name.toLowerCase())) target = CHANGE_COLUMN;
    else target = (byExact.get(name) ?? byNormal.get(normaliseName(name)))?.name;
    if (target === null) return;
    if (target === undefined) {
      issues.push({
        path: `header.${name || `(field ${field + 1})`}`,
        message: `matches no column of ${table.name}; map it with --map "${name}=<column>" or ignore it with --map "${name}="`,
      });
      return;
    }
    if (target === CHANGE_COLUMN) {
      changeField = field;
      return;
    }
    const before = taken.get(target);
    if (before !== undefined) {
      issues.push({
        path: `header.${name}`,
        message: `fills column ${target}, which field ${before + 1} ("${names[before]}") already fills`,
      });
      return;
    }
    taken.set(target, field);
    columns.push({ column: byExact.get(target)!, field });
  });
  for (const key of table.primaryKey) {
    if (!taken.has(key))
      issues.push({
        path: `header`,
        message: `no field for the primary key column "${key}" of ${table.name}`,
      });
  }
  if (mode === 'cdc' && changeField === undefined) {
    issues.push({
      path: 'header',
      message: `--mode cdc needs a "${CHANGE_COLUMN}" field with u (upsert) or d (delete) on every row`,
    });
  }
  if (mode !== 'cdc' && changeField !== undefined) {
    issues.push({
      path: `header.${names[changeField]}`,
      message: `a change column is only read with --mode cdc`,
    });
  }
  if (issues.length > 0) {
    throw new UserError(
      `The file's header does not fit table ${table.name}:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`,
      { issues },
    );
  }
  return { columns, changeField, width: names.length };
}

/** A column a loaded file declares, and the heading that names its field in the file. */
export interface HeadedColumn {
  column: ReadColumn;
  heading: string;
}

/**
 * Finds a loaded file's declared columns in its header (load-file): each by its heading exactly, or else
 * by the one heading equal to it once normalised (case, accents, spaces). Unlike an import, the file's
 * other fields are ignored: a file sent by a partner often carries more than the campaign needs.
 */
export function findHeadings(header: Array<string | null>, declared: HeadedColumn[]): HeaderMapping {
  const names = header.map((h) => (h ?? '').trim());
  const issues: Issue[] = [];
  const columns: HeaderMapping['columns'] = [];
  for (const { column, heading } of declared) {
    let fields = names.flatMap((name, i) => (name === heading ? [i] : []));
    if (fields.length === 0) {
      const wanted = normaliseName(heading);
      fields = names.flatMap((name, i) => (normaliseName(name) === wanted ? [i] : []));
    }
    if (fields.length === 1) columns.push({ column, field: fields[0]! });
    else
      issues.push({
        path: `columns.${column.name}`,
        message:
          fields.length === 0
            ? `the file has no column "${heading}" (its header is: ${names.join(', ')})`
            : `the file's header has ${fields.length} columns named "${heading}" (fields ${fields.map((f) => f + 1).join(', ')})`,
      });
  }
  if (issues.length > 0) {
    throw new UserError(
      `The file's header does not fit the declared columns:\n${issues.map((i) => `  - ${i.path}: ${i.message}`).join('\n')}`,
      { issues },
    );
  }
  return { columns, changeField: undefined, width: names.length };
}
