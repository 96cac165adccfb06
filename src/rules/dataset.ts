import type { LinkDef, TableDef, WorkspaceSchema } from '../schema/types.ts';
import { findTable } from '../schema/types.ts';
import type { TypedExpr } from './expression/check.ts';
import { evaluateExpression, type ExpressionEvalContext } from './expression/evaluate.ts';
import type { CollectionRef, FieldRef } from './scope.ts';
import { compareValues, type Value } from './values.ts';

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

type WindowNode = Extract<TypedExpr, { kind: 'window' }>;

export class Dataset {
  private readonly indexes = new Map<string, Map<string, Row[]>>();
  private readonly windows = new WeakMap<EvalRun, Map<WindowNode, Map<Row, Value>>>();

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

  /** The evaluation context of one row of `table`. */
  context(table: string, row: Row, run: EvalRun): ExpressionEvalContext {
    return {
      now: run.now,
      field: (ref: FieldRef) => this.reach(row, ref.links)?.[ref.column.name] ?? null,
      variable: (name: string) => run.variables[name] ?? null,
      window: (node) => this.windowValues(node, run).get(row) ?? null,
      collection: (ref: CollectionRef) => {
        const owner = this.reach(row, ref.links);
        return owner
          ? this.follow(owner, ref.link).map((child) => this.context(ref.table.name, child, run))
          : [];
      },
    };
  }

  /**
   * A window function's value for every row of its table, computed once per run: rows are grouped by
   * the partition values and numbered in the order's sequence (empty values last when ascending, first
   * when descending; row numbers broken by primary key), as the SQL does.
   */
  private windowValues(node: WindowNode, run: EvalRun): Map<Row, Value> {
    let computed = this.windows.get(run);
    if (!computed) this.windows.set(run, (computed = new Map<WindowNode, Map<Row, Value>>()));
    const cached = computed.get(node);
    if (cached) return cached;
    const table = this.table(node.table.name);
    const rows = this.rows[table.name] ?? [];
    const contexts = new Map(rows.map((row) => [row, this.context(table.name, row, run)]));
    const groups = new Map<string, Row[]>();
    for (const row of rows) {
      const key = JSON.stringify(node.partition.map((p) => evaluateExpression(p, contexts.get(row)!)));
      const group = groups.get(key);
      if (group) group.push(row);
      else groups.set(key, [row]);
    }
    const keysOf = new Map(
      rows.map((row) => [row, node.order.map((o) => evaluateExpression(o.expr, contexts.get(row)!))]),
    );
    const byOrder = (a: Row, b: Row) => {
      const ka = keysOf.get(a)!;
      const kb = keysOf.get(b)!;
      for (let i = 0; i < node.order.length; i++) {
        const x = ka[i] ?? null;
        const y = kb[i] ?? null;
        if (x === y) continue;
        // Empty values sort last ascending, first descending: the largest value either way.
        const order = x === null ? 1 : y === null ? -1 : compareValues(x, y);
        if (order !== 0) return node.order[i]!.desc ? -order : order;
      }
      return 0;
    };
    const byKey = (a: Row, b: Row) => {
      for (const k of table.primaryKey) {
        const order = compareValues(a[k] as Exclude<Value, null>, b[k] as Exclude<Value, null>);
        if (order !== 0) return order;
      }
      return 0;
    };
    const values = new Map<Row, Value>();
    for (const group of groups.values()) {
      if (node.fn === 'over') {
        const result = node.aggregate!.evaluate(
          group.map((row) => (node.value ? evaluateExpression(node.value, contexts.get(row)!) : 1)),
          node.value?.type,
        );
        for (const row of group) values.set(row, result);
        continue;
      }
      group.sort((a, b) => byOrder(a, b) || byKey(a, b));
      let rank = 0;
      let dense = 0;
      group.forEach((row, i) => {
        const tied = i > 0 && byOrder(group[i - 1]!, row) === 0;
        if (!tied) {
          rank = i + 1;
          dense++;
        }
        values.set(row, node.fn === 'rownum' ? i + 1 : node.fn === 'rank' ? rank : dense);
      });
    }
    computed.set(node, values);
    return values;
  }
}
