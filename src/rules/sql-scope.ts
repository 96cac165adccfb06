import { sql, type RawBuilder } from 'kysely';
import type { SqlDialect } from '../db/dialect.ts';
import type { LinkDef, TableDef } from '../schema/types.ts';
import { findTable, type WorkspaceSchema } from '../schema/types.ts';
import type { TypedExpr } from './expression/check.ts';
import { aggregateArg, expressionSql, orderKeySql, type ExpressionSqlContext } from './expression/to-sql.ts';
import type { CollectionRef, FieldRef } from './scope.ts';
import { sqlParam } from './sql-values.ts';
import { systemTableSql } from './system-links.ts';
import type { Value, ValueType } from './values.ts';

/**
 * The SQL side of a scope: one table under an alias, plus a LEFT JOIN per link path to one row that the
 * rule uses (each path joined once, however often it is used). Subqueries over collections get scopes of
 * their own, correlated with this one. Aliases are `t0`, `t1`… so they never clash with table or column
 * names; identifiers all come from the schema.
 */
export interface SqlRunContext {
  dialect: SqlDialect;
  schema: WorkspaceSchema;
  /** "Now" for GetDate and the *Ago functions, in epoch milliseconds (the run's time). */
  now: number;
  /** Values of run variables and saved-filter parameters. */
  variables: Record<string, Value>;
  /**
   * Parameters that stand for a column of another table of the statement rather than for a value (a
   * loaded file's row, which a reconciliation matches rows with): compiled as that column, of the
   * parameter's declared type, in the table's stored form.
   */
  parameterColumns?: Record<string, RawBuilder<unknown>>;
}

export class SqlScope {
  private readonly joins: Array<{ key: string; alias: string; sql: RawBuilder<unknown> }> = [];

  constructor(
    readonly run: SqlRunContext,
    readonly table: TableDef,
    readonly alias: string,
    private readonly aliases: { next: number } = { next: 1 },
  ) {}

  /** The scope of the rows of `table`; with `over`, only the rows whose keys a working table holds. */
  static root(run: SqlRunContext, table: TableDef, over?: RawBuilder<unknown>): SqlScope {
    const scope = new SqlScope(run, table, 't0');
    scope.over = over;
    return scope;
  }

  /** A working table the rows are restricted to (joined on the primary key). */
  private over: RawBuilder<unknown> | undefined;

  private newAlias(): string {
    return `t${this.aliases.next++}`;
  }

  /** The alias of the row reached through `links` (joined on first use). */
  aliasFor(links: LinkDef[]): string {
    let alias = this.alias;
    const path: string[] = [];
    for (const link of links) {
      path.push(link.name);
      const key = path.join('.');
      const target = findTable(this.run.schema, link.table)!;
      let join = this.joins.find((j) => j.key === key);
      if (!join) {
        const joined = this.newAlias();
        const on = sql.join(
          link.on.map(
            (pair) => sql`${sql.ref(`${joined}.${pair.to}`)} = ${sql.ref(`${alias}.${pair.from}`)}`,
          ),
          sql` AND `,
        );
        join = {
          key,
          alias: joined,
          sql: sql`LEFT JOIN ${this.run.dialect.dataTableRef(target.name)} AS ${sql.id(joined)} ON ${on}`,
        };
        this.joins.push(join);
      }
      alias = join.alias;
    }
    return alias;
  }

  column(ref: FieldRef): RawBuilder<unknown> {
    if (ref.carried) {
      // Carried columns live in the working table the rows come from (alias w, see from()).
      if (!this.over)
        throw new Error(`${ref.column.name} is carried by a working table this rule does not read`);
      return sql.ref(`w.${ref.column.name}`);
    }
    return sql.ref(`${this.aliasFor(ref.links)}.${ref.column.name}`);
  }

  /** `data_x AS t0 LEFT JOIN …`: the FROM clause, once the rule has been compiled. */
  from(): RawBuilder<unknown> {
    const source = this.table.system
      ? systemTableSql(this.run.dialect.kind, this.table)
      : this.run.dialect.dataTableRef(this.table.name);
    const table = sql`${source} AS ${sql.id(this.alias)}`;
    const on = sql.join(
      this.table.primaryKey.map((k) => sql`${sql.ref(`${this.alias}.${k}`)} = ${sql.ref(`w.${k}`)}`),
      sql` AND `,
    );
    const base = this.over ? sql`${this.over} AS w JOIN ${table} ON ${on}` : table;
    return this.joins.length === 0
      ? base
      : sql`${base} ${sql.join(
          this.joins.map((j) => j.sql),
          sql` `,
        )}`;
  }

  /**
   * The owner's join column as the linked rows hold it: a system link's rows name the recipient by its
   * key as text (src/delivery/queue.ts recipientSql). The key is cast rather than the ledger's column,
   * so that the ledger's indexes on the recipient stay usable.
   */
  ownerKey(link: LinkDef, alias: string, column: string): RawBuilder<unknown> {
    const key = sql.ref(`${alias}.${column}`);
    return link.system ? sql`CAST(${key} AS TEXT)` : key;
  }

  /**
   * A scope over a collection's rows, and the condition that ties them to the current row (with the
   * collection's implicit condition, if any).
   */
  child(collection: CollectionRef): {
    scope: SqlScope;
    correlation: RawBuilder<unknown>;
    implicit: RawBuilder<unknown> | undefined;
  } {
    const parentAlias = this.aliasFor(collection.links);
    const scope = new SqlScope(this.run, collection.table, this.newAlias(), this.aliases);
    const conditions = collection.link.on.map(
      (pair) =>
        sql`${sql.ref(`${scope.alias}.${pair.to}`)} = ${this.ownerKey(collection.link, parentAlias, pair.from)}`,
    );
    const implicit =
      collection.implicit &&
      sql`${sql.ref(`${scope.alias}.${collection.implicit.column.name}`)} = ${scope.param(collection.implicit.value, collection.implicit.column.type)}`;
    if (implicit) conditions.push(implicit);
    return { scope, correlation: sql.join(conditions, sql` AND `), implicit };
  }

  /**
   * A window function's value for this scope's rows: computed in a derived table over the whole table
   * (`SELECT key, row_number() OVER (…) AS v FROM …`), joined back on the primary key.
   */
  window(node: Extract<TypedExpr, { kind: 'window' }>): RawBuilder<unknown> {
    const kind = this.run.dialect.kind;
    const inner = new SqlScope(this.run, node.table, this.newAlias(), this.aliases);
    const ctx = inner.expressionContext();
    const keys = node.table.primaryKey;
    const order = node.order.map((o) => orderKeySql(expressionSql(o.expr, ctx), o.expr.type, o.desc, kind));
    // Row numbers are made deterministic by the primary key; ranks are not (equal keys share a rank).
    if (node.fn === 'rownum') order.push(...keys.map((k) => sql`${sql.ref(`${inner.alias}.${k}`)} ASC`));
    const partition = node.partition.map((p) => expressionSql(p, ctx));
    const over = sql` OVER (${partition.length > 0 ? sql`PARTITION BY ${sql.join(partition)} ` : sql``}${
      order.length > 0 ? sql`ORDER BY ${sql.join(order)}` : sql``
    })`;
    const value =
      node.fn === 'over'
        ? node.aggregate!.sql(node.value && aggregateArg(node.value, ctx), ctx, over)
        : sql`${sql.raw(node.fn === 'rownum' ? 'row_number' : node.fn === 'rank' ? 'rank' : 'dense_rank')}()${over}`;
    const alias = this.newAlias();
    const columns = keys.map((k, i) => sql`${sql.ref(`${inner.alias}.${k}`)} AS ${sql.id(`k${i}`)}`);
    const on = sql.join(
      keys.map((k, i) => sql`${sql.ref(`${alias}.k${i}`)} = ${sql.ref(`${this.alias}.${k}`)}`),
      sql` AND `,
    );
    this.joins.push({
      key: `window:${alias}`,
      alias,
      sql: sql`LEFT JOIN (SELECT ${sql.join(columns)}, ${value} AS v FROM ${inner.from()}) AS ${sql.id(alias)} ON ${on}`,
    });
    return sql.ref(`${alias}.v`);
  }

  param(value: Value, type: ValueType): RawBuilder<unknown> {
    return sqlParam(this.run.dialect.kind, value, type);
  }

  expressionContext(): ExpressionSqlContext {
    return {
      kind: this.run.dialect.kind,
      param: (value, type) => this.param(value, type),
      now: () => this.param(this.run.now, 'datetime'),
      field: (ref) => this.column(ref),
      window: (node) => this.window(node),
      variable: (name, type) =>
        this.run.parameterColumns?.[name] ?? this.param(this.run.variables[name] ?? null, type),
      subquery: (node, select) => {
        const { scope, correlation } = this.child(node.collection);
        const value = select(scope.expressionContext());
        return sql`(SELECT ${value} FROM ${scope.from()} WHERE ${correlation})`;
      },
    };
  }
}
