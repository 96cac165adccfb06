import type { LinkDef, TableDef, WorkspaceSchema } from '../schema/types.ts';
import { findTable } from '../schema/types.ts';
import type { ExpressionEvalContext } from './expression/evaluate.ts';
import type { CollectionRef, FieldRef } from './scope.ts';
import type { Value } from './values.ts';

/**
 * Rows held in memory, table by table, with what the in-memory evaluator needs to follow links: the rows
 * of a table by the values of the columns a link joins on. Used as the differential tests' oracle and for
 * previews of small samples.
 */
export type Row = Record<string, Value>;

export interface EvalRun {
  now: number;
  variables: Record<string, Value>;
}

export class Dataset {
  private readonly indexes = new Map<string, Map<string, Row[]>>();

  constructor(
    readonly schema: WorkspaceSchema,
    readonly rows: Record<string, Row[]>,
  ) {}

  private static key(row: Row, columns: string[]): string | undefined {
    const values = columns.map((c) => row[c] ?? null);
    // A NULL join column joins nothing, as in SQL.
    return values.some((v) => v === null) ? undefined : JSON.stringify(values);
  }

  /** The rows a link reaches from `row`. */
  follow(row: Row, link: LinkDef): Row[] {
    const target = link.table;
    const columns = link.on.map((p) => p.to);
    const indexKey = `${target}:${columns.join(',')}`;
    let index = this.indexes.get(indexKey);
    if (!index) {
      index = new Map();
      for (const candidate of this.rows[target] ?? []) {
        const key = Dataset.key(candidate, columns);
        if (key === undefined) continue;
        const list = index.get(key);
        if (list) list.push(candidate);
        else index.set(key, [candidate]);
      }
      this.indexes.set(indexKey, index);
    }
    const key = Dataset.key(Object.fromEntries(link.on.map((p) => [p.to, row[p.from] ?? null])), columns);
    return key === undefined ? [] : (index.get(key) ?? []);
  }

  /** The row reached through links to one row, or undefined when a link finds nothing. */
  private reach(row: Row, links: LinkDef[]): Row | undefined {
    let current: Row | undefined = row;
    for (const link of links) {
      if (!current) return undefined;
      current = this.follow(current, link)[0];
    }
    return current;
  }

  table(name: string): TableDef {
    const table = findTable(this.schema, name);
    if (!table) throw new Error(`no table ${name} in the dataset's schema`);
    return table;
  }

  /** The evaluation context of one row. */
  context(row: Row, run: EvalRun): ExpressionEvalContext {
    return {
      now: run.now,
      field: (ref: FieldRef) => this.reach(row, ref.links)?.[ref.column.name] ?? null,
      variable: (name: string) => run.variables[name] ?? null,
      collection: (ref: CollectionRef) => {
        const owner = this.reach(row, ref.links);
        return owner ? this.follow(owner, ref.link).map((child) => this.context(child, run)) : [];
      },
    };
  }
}
