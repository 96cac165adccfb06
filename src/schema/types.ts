/** The workspace data model: what `baton.yaml` declares once it has been validated and normalised. */

export const COLUMN_TYPES = ['string', 'integer', 'decimal', 'boolean', 'date', 'datetime'] as const;
export type ColumnType = (typeof COLUMN_TYPES)[number];

export const CARDINALITIES = ['one-to-one', 'many-to-one', 'one-to-many'] as const;
export type Cardinality = (typeof CARDINALITIES)[number];

export const CHANNELS = ['email', 'sms', 'push', 'direct-mail'] as const;
export type Channel = (typeof CHANNELS)[number];

export interface ColumnDef {
  name: string;
  type: ColumnType;
  label?: string;
  description?: string;
  /** Allowed values of an enumerated string column; imports reject anything else. */
  values?: string[];
}

export interface LinkDef {
  name: string;
  table: string;
  cardinality: Cardinality;
  /** Join column pairs: this table's column → the linked table's column. */
  on: Array<{ from: string; to: string }>;
  /**
   * A system link of a targeting dimension (`messages`, `events`): its table is one of Baton's own, not
   * a customer table, so it is never looked up among the workspace's tables (src/schema/system-tables.ts).
   */
  system?: true;
}

export interface ChannelDef {
  channel: Channel;
  /** Column holding the address (email, phone number, push token, postal address). */
  address: string;
  /** Optional boolean column: false or empty means the recipient has not opted in to this channel. */
  optIn?: string;
}

export interface TableDef {
  name: string;
  label?: string;
  description?: string;
  primaryKey: string[];
  columns: ColumnDef[];
  links: LinkDef[];
  /** Present when the table is a targeting dimension. */
  targeting?: ChannelDef[];
  /** Set on the tables of the system links: rules read Baton's ledger or events table through a view. */
  system?: 'messages' | 'events';
}

export interface WorkspaceSchema {
  tables: TableDef[];
}

export function findTable(schema: WorkspaceSchema, name: string): TableDef | undefined {
  return schema.tables.find((t) => t.name === name);
}

export function findColumn(table: TableDef, name: string): ColumnDef | undefined {
  return table.columns.find((c) => c.name === name);
}

/**
 * A typed cell value as Baton handles it between parsing and the database: integers beyond 2^53 are
 * bigints, decimals keep their exact text, dates are `YYYY-MM-DD`, datetimes are epoch milliseconds (UTC).
 */
export type CellValue = string | number | bigint | boolean | null;
