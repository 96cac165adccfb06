import { SYSTEM_LINKS } from './parse.ts';
import { EVENTS_TABLE, MESSAGES_TABLE } from './system-tables.ts';
import type { Cardinality, ColumnDef, ColumnType, WorkspaceSchema } from './types.ts';

/**
 * The workspace as an entity-relationship summary: what the schema page draws (tables with columns, keys
 * and targeting channels; one edge per link) and what `baton schema show` prints.
 */
type ErColumn = { name: string; type: ColumnType; label: string | null; values: string[] | null };

export interface ErTable {
  name: string;
  label: string | null;
  primaryKey: string[];
  columns: ErColumn[];
  targeting: Array<{ channel: string; address: string; optIn: string | null }> | null;
  /** System links every targeting dimension has (message ledger, tracking events). */
  systemLinks: string[];
  rowCount: number | null;
}

export interface ErLink {
  from: string;
  name: string;
  to: string;
  cardinality: Cardinality;
  on: Array<{ from: string; to: string }>;
}

export interface ErSummary {
  tables: ErTable[];
  links: ErLink[];
  /** The tables of the system links, whose columns rules name inside `exists: messages` and the like. */
  systemTables: Array<{ name: string; label: string | null; columns: ErColumn[] }>;
}

function erColumns(columns: ColumnDef[]): ErColumn[] {
  return columns.map((c) => ({
    name: c.name,
    type: c.type,
    label: c.label ?? null,
    values: c.values ?? null,
  }));
}

export function erSummary(schema: WorkspaceSchema, rowCounts: Record<string, number> = {}): ErSummary {
  return {
    tables: schema.tables.map((t) => ({
      name: t.name,
      label: t.label ?? null,
      primaryKey: t.primaryKey,
      columns: erColumns(t.columns),
      targeting:
        t.targeting?.map((ch) => ({ channel: ch.channel, address: ch.address, optIn: ch.optIn ?? null })) ??
        null,
      systemLinks: t.targeting ? [...SYSTEM_LINKS] : [],
      rowCount: rowCounts[t.name] ?? null,
    })),
    links: schema.tables.flatMap((t) =>
      t.links.map((l) => ({ from: t.name, name: l.name, to: l.table, cardinality: l.cardinality, on: l.on })),
    ),
    systemTables: schema.tables.some((t) => t.targeting)
      ? [MESSAGES_TABLE, EVENTS_TABLE].map((t) => ({
          name: t.name,
          label: t.label ?? null,
          columns: erColumns(t.columns),
        }))
      : [],
  };
}

const ARROWS: Record<Cardinality, string> = {
  'one-to-one': '1-1',
  'many-to-one': 'N-1',
  'one-to-many': '1-N',
};

/** A plain-text rendering for terminals. */
export function erText(summary: ErSummary): string {
  const lines: string[] = [];
  for (const t of summary.tables) {
    const count = t.rowCount === null ? '' : ` — ${t.rowCount.toLocaleString('en-US')} rows`;
    const label = t.label ? ` (${t.label})` : '';
    lines.push(`${t.name}${label}${count}`);
    lines.push(`  key: ${t.primaryKey.join(', ')}`);
    lines.push(`  columns: ${t.columns.map((c) => `${c.name} ${c.type}`).join(', ')}`);
    if (t.targeting) {
      lines.push(
        `  targeting: ${t.targeting.map((ch) => `${ch.channel} → ${ch.address}${ch.optIn ? ` (opt-in ${ch.optIn})` : ''}`).join(', ')}`,
      );
      lines.push(`  system links: ${t.systemLinks.join(', ')}`);
    }
    for (const l of summary.links.filter((x) => x.from === t.name)) {
      lines.push(
        `  link ${l.name}: ${ARROWS[l.cardinality]} ${l.to} on ${l.on.map((p) => `${p.from} = ${l.to}.${p.to}`).join(' and ')}`,
      );
    }
  }
  for (const t of summary.systemTables) {
    lines.push(`${t.name} (system link)`);
    lines.push(`  columns: ${t.columns.map((c) => `${c.name} ${c.type}`).join(', ')}`);
  }
  return lines.join('\n');
}
