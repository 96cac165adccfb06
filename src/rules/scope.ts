import type { ColumnDef, LinkDef, TableDef, WorkspaceSchema } from '../schema/types.ts';
import { findColumn, findTable } from '../schema/types.ts';
import { systemLinks, systemTable } from '../schema/system-tables.ts';
import { implicitCondition } from './system-links.ts';
import type { Value } from './values.ts';

/**
 * Where names in a rule or an expression are looked up: a table of the workspace (the targeting dimension,
 * or the table of a one-to-many link inside `exists` / aggregates), and the tables reached from it through
 * many-to-one and one-to-one links. Every name resolves to a column or link of the schema, so the SQL
 * compiler only ever writes identifiers that the schema declares.
 */
export interface FieldRef {
  /** The path as written: `store.region`. */
  path: string[];
  /** Links followed from the scope's table, in order (each to one row at most). */
  links: LinkDef[];
  table: TableDef;
  column: ColumnDef;
  /** A column the population's rows carry (an enrichment's), read from its working table. */
  carried?: true;
}

export interface CollectionRef {
  /** The path as written: `purchases`. */
  path: string[];
  /** Links to one row followed first (usually none), then the one-to-many link. */
  links: LinkDef[];
  link: LinkDef;
  /** The table of the collection's rows. */
  table: TableDef;
  /** A condition the rows meet besides the rule's own (the `events` system link's human default). */
  implicit?: { column: ColumnDef; value: Value };
}

/**
 * A table's links: those the schema declares, and the system links of a targeting dimension. Hints in
 * messages list the declared ones; the system links are documented once (docs/rules.md).
 */
function linksOf(table: TableDef): LinkDef[] {
  return [...table.links, ...systemLinks(table)];
}

export class Scope {
  /**
   * `carried`: columns the rows of a population carry beside the table's own (what an enrichment added),
   * named by one name each; only the scope of the population's own rows has them.
   */
  constructor(
    readonly schema: WorkspaceSchema,
    readonly table: TableDef,
    readonly carried: ReadonlyArray<Pick<ColumnDef, 'name' | 'type'>> = [],
  ) {}

  /** Follows links to one row along `path`; returns the links and the table reached, or what is wrong. */
  private walk(path: string[]): { links: LinkDef[]; table: TableDef } | string {
    let table = this.table;
    const links: LinkDef[] = [];
    for (const name of path) {
      const link = linksOf(table).find((l) => l.name === name);
      if (!link) {
        const known = table.links.map((l) => l.name);
        return `${table.name} has no link "${name}"${known.length ? ` (links: ${known.join(', ')})` : ''}`;
      }
      if (link.cardinality === 'one-to-many') {
        return `"${name}" is a one-to-many link of ${table.name}: use exists / notExists or an aggregate over it`;
      }
      const next = findTable(this.schema, link.table);
      if (!next) return `link "${name}" of ${table.name} points to the unknown table ${link.table}`;
      links.push(link);
      table = next;
    }
    return { links, table };
  }

  /** A column of the scope's table, or of a table reached through links to one row (`store.region`). */
  field(path: string[]): FieldRef | string {
    const reached = this.walk(path.slice(0, -1));
    if (typeof reached === 'string') return reached;
    const name = path[path.length - 1]!;
    const column = findColumn(reached.table, name);
    const carried = path.length === 1 ? this.carried.find((c) => c.name === name) : undefined;
    if (!column && carried) return { path, links: [], table: this.table, column: carried, carried: true };
    if (!column) {
      const link = linksOf(reached.table).find((l) => l.name === name);
      if (link?.cardinality === 'one-to-many') {
        return `"${name}" is a one-to-many link of ${reached.table.name}: use exists / notExists or an aggregate over it`;
      }
      if (link)
        return `"${name}" is a link of ${reached.table.name}; name one of its columns: ${name}.<column>`;
      const extra = path.length === 1 && this.carried.length > 0;
      return `${reached.table.name} has no column "${name}"${extra ? ` (nor do its rows carry one: ${this.carried.map((c) => c.name).join(', ')})` : ''}`;
    }
    return { path, links: reached.links, table: reached.table, column };
  }

  /** A one-to-many link of the scope's table (or of a table reached through links to one row). */
  collection(path: string[]): CollectionRef | string {
    const reached = this.walk(path.slice(0, -1));
    if (typeof reached === 'string') return reached;
    const name = path[path.length - 1]!;
    const link = linksOf(reached.table).find((l) => l.name === name);
    if (!link) {
      const many = reached.table.links.filter((l) => l.cardinality === 'one-to-many').map((l) => l.name);
      return `${reached.table.name} has no link "${name}"${many.length ? ` (one-to-many links: ${many.join(', ')})` : ''}`;
    }
    if (link.cardinality !== 'one-to-many') {
      return `"${name}" is a ${link.cardinality} link: compare its columns directly (${name}.<column>)`;
    }
    const table = link.system ? systemTable(link) : findTable(this.schema, link.table);
    if (!table) return `link "${name}" points to the unknown table ${link.table}`;
    const implicit = implicitCondition(table);
    return { path, links: reached.links, link, table, ...(implicit && { implicit }) };
  }

  /** The scope of a collection's rows. */
  inside(collection: CollectionRef): Scope {
    return new Scope(this.schema, collection.table);
  }
}
