import type { RawBuilder } from 'kysely';
import type { z } from 'zod';
import type { Database } from '../db/database.ts';
import type { LogFields } from '../engine/run-log.ts';
import type { ExtraColumn, WorkingTable, WorkingTableSource } from '../engine/working-tables.ts';
import type { Issue } from '../errors.ts';
import type { SqlScope } from '../rules/sql-scope.ts';
import type { ColumnType, TableDef, WorkspaceSchema } from '../schema/types.ts';
import type { Value } from '../rules/values.ts';

/**
 * The contract of an activity type: what the campaign document may say about it (its config schema),
 * what it consumes and produces (inputs and output ports), and the checks it makes against the workspace
 * schema. The validator, the API and the canvas palette learn about activities from these definitions;
 * adding one is adding one file to src/activities/ and listing it in the registry.
 */
export type ActivityCategory = 'targeting' | 'flow' | 'channel';

/**
 * How many inbound transitions an activity takes: `one-or-many` is one `input`, or a list of `inputs` of
 * which one is the primary (an enrichment that joins other working tables to its population).
 */
export type InputArity = 'none' | 'one' | 'many' | 'optional' | 'one-or-many';

/**
 * The population on a transition: rows of a table of the workspace (a dimension), rows of a loaded file
 * (no dimension yet), or unknown until run time (an audience not saved yet). `columns` are the
 * extra columns the rows carry (what enrichment added, a file's columns): for a table's rows, none when
 * absent; for a file's, not known before the run when absent.
 */
export type Population =
  | { kind: 'dimension'; table: TableDef; columns?: ExtraColumn[] }
  | { kind: 'file'; columns?: ExtraColumn[] }
  | { kind: 'unknown' };

export interface PortDef {
  /** '' for the main output (named by the activity id alone), otherwise `activity.port`. */
  name: string;
  label: string;
}

export interface ActivityContext {
  schema: WorkspaceSchema;
  /** The populations of the activity's inputs, in the order the document lists them. */
  inputs: Population[];
  /** The inputs as the document names them (`activity` or `activity.port`), in the same order. */
  inputRefs: string[];
  /** Where this activity's config sits in the document, for issue paths (`activities.by-tier`). */
  path: string;
  /** The saved audiences: name → the table their rows are of (read-audience's population). */
  audiences?: ReadonlyMap<string, string>;
  /** The run variables a signal schedule declares (its parameters), by type: `vars.<name>`, `{ param }`. */
  variables?: Readonly<Record<string, ColumnType>>;
}

/** What an activity sees when it runs (src/engine/task-context.ts provides it). */
export interface ExecuteContext {
  database: Database;
  schema: WorkspaceSchema;
  mode: 'test' | 'live';
  /** The run, the campaign and the activity being run (for state kept across runs). */
  run: string;
  campaign: string;
  activity: string;
  /** The run's "now", in epoch milliseconds. */
  now: number;
  /**
   * The run's variables: a signal's parameters (their test values in a test run), which rules read as
   * `{ param: name }` and test conditions as `vars.<name>`.
   */
  variables: Readonly<Record<string, Value>>;
  /** The declared types of the run's variables. */
  variableTypes: Readonly<Record<string, ColumnType>>;
  /** The folder of files campaigns may load (`<BATON_DATA_DIR>/files`). */
  filesDir: string;
  /** The working tables of the inputs, in the order the document lists them. */
  inputs: WorkingTable[];
  /** The inputs as the document names them (`activity` or `activity.port`), in the same order. */
  inputRefs: string[];
  /**
   * Materialises `source` (a SELECT of the key columns of `dimension`, then the extra `columns`; or a
   * function writing the rows) as the working table of output `port`. `activate: false` keeps the
   * transition from firing (an empty segment with skip-empty, say).
   */
  output(
    port: string,
    dimension: TableDef,
    source: WorkingTableSource,
    options?: { activate?: (count: number) => boolean; columns?: ExtraColumn[] },
  ): Promise<WorkingTable>;
  /** Hands a working table on to output `port` as it is. */
  forward(port: string, table: WorkingTable): Promise<void>;
  /**
   * A rule over `table` (restricted to the rows of `over`, whose carried columns it may name): its scope
   * (FROM) and condition (WHERE). With `bound`, the rule's parameters are the columns of another table of
   * the statement, under `alias` (a loaded file's line that a reconciliation matches rows with), and only
   * those (`described` names them in errors).
   */
  rule(
    table: TableDef,
    rule: unknown,
    over?: WorkingTable,
    bound?: { columns: ExtraColumn[]; alias: string; described: string },
  ): { scope: SqlScope; where: RawBuilder<unknown> };
  /** The working table's reference in SQL. */
  ref(table: WorkingTable): RawBuilder<unknown>;
  log(message: string, fields?: LogFields): Promise<void>;
  /**
   * Holds the task until `at(now)` on the run's clock (a durable timer: the time is computed once, stored,
   * and kept across restarts). Returns when it is due; otherwise the task is parked as `waiting` and
   * executed again when the time comes, so code after this call runs only once the wait is over.
   */
  waitUntil(at: (now: number) => number): Promise<void>;
  /**
   * Parks the task for `ms` on the run's clock and executes it again then (a channel activity waiting for
   * its messages to be sent): unlike `waitUntil`, every call sets a new time.
   */
  checkAgainAfter(ms: number): Promise<never>;
  /**
   * A live run of a one-shot campaign (no schedule, `asap`, `once`) holds its sends until someone
   * confirms them: parks the task as `needs-confirmation` until the activity's send is confirmed
   * (lifecycle.ts confirmSend); returns at once when it is, and for test runs and recurring campaigns.
   */
  awaitConfirmation(): Promise<void>;
  /** Records an alert on the run and hands it to the configured notifier. */
  alert(alert: { level: 'info' | 'warning' | 'error'; title: string; message?: string }): Promise<void>;
  /** Sends a signal with parameters to another campaign (consumed by its signal schedule). */
  signal(campaign: string, parameters: Record<string, unknown>): Promise<void>;
}

export interface CheckResult {
  population: Population;
  issues: Issue[];
  /** Outputs whose population differs from `population` (a change of dimension's unmatched rows…). */
  ports?: Record<string, Population>;
}

export interface ActivityDefinition<Config = Record<string, unknown>> {
  type: string;
  label: string;
  category: ActivityCategory;
  /** One line for the palette: what the activity does. */
  description: string;
  inputs: InputArity;
  /** The activity's own keys (not type, label, description, input(s), disabled): checked for shape. */
  config: z.ZodType<Config>;
  /** The output ports for a given config (a split's segments, a test's branches…). */
  outputs(config: Config): PortDef[];
  /**
   * Checks the config against the workspace and the input populations; returns the output population
   * (every port carries the same one) and any problems found.
   */
  check(config: Config, ctx: ActivityContext): CheckResult;
  /** Runs the activity: reads its inputs' working tables and writes its outputs'. Absent: not runnable yet. */
  execute?(config: Config, ctx: ExecuteContext): Promise<void>;
}

/** Defines an activity with its config type inferred from its schema. */
export function defineActivity<Schema extends z.ZodType<Record<string, unknown>>>(
  definition: Omit<ActivityDefinition<z.infer<Schema>>, 'config'> & { config: Schema },
): ActivityDefinition {
  return definition;
}

export const MAIN: PortDef = { name: '', label: 'result' };
export const COMPLEMENT: PortDef = { name: 'complement', label: 'complement' };
