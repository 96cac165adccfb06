import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import type { ExecuteContext } from '../activities/types.ts';
import { filesFolder } from '../data/files-folder.ts';
import type { Database } from '../db/database.ts';
import { UserError } from '../errors.ts';
import { checkRule } from '../rules/check-rule.ts';
import { THIS_CAMPAIGN_VARIABLE } from '../rules/built-in-filters.ts';
import { resolveParameters } from '../rules/rule-service.ts';
import type { Value } from '../rules/values.ts';
import type { ColumnType } from '../schema/types.ts';
import { ruleSql } from '../rules/rule-sql.ts';
import { SqlScope } from '../rules/sql-scope.ts';
import type { WorkspaceSchema } from '../schema/types.ts';
import type { Clock } from './clock.ts';
import { writeRunLog } from './run-log.ts';
import { createWorkingTable, workingTableRef, type WorkingTable } from './working-tables.ts';

/** What the engine knows about the run a task belongs to. */
export interface RunInfo {
  id: string;
  campaign: string;
  mode: 'test' | 'live';
  /** The run's "now" (epoch ms): what rules read as the current time. */
  now: number;
  /** Whether its sends wait for a confirmation (a live run of a one-shot campaign). */
  confirmSends: boolean;
  /** A signal's parameters (in a test run, their test values or defaults), and their declared types. */
  variables: Record<string, Value>;
  variableTypes: Record<string, ColumnType>;
}

export interface RunAlert {
  run: string;
  campaign: string;
  activity: string;
  level: 'info' | 'warning' | 'error';
  title: string;
  message?: string;
}

/** Where alerts go besides the run's log (an e-mail to the owners, a chat hook…). */
export type AlertNotifier = (alert: RunAlert) => Promise<void>;

/** Thrown by `waitUntil` when the time has not come: the task is parked, not failed. */
/** A task that cannot go on yet: until a time, or until its send is confirmed (no time: a person acts). */
export class TaskParked extends Error {
  constructor(
    readonly wakeAt: number | null,
    readonly state: 'waiting' | 'needs-confirmation' = 'waiting',
  ) {
    super(
      wakeAt === null
        ? 'waiting for the send to be confirmed'
        : `waiting until ${new Date(wakeAt).toISOString()}`,
    );
  }
}

export interface TaskEnvironment {
  database: Database;
  schema: WorkspaceSchema;
  run: RunInfo;
  clock: Clock;
  notifier: AlertNotifier | undefined;
  activity: string;
  inputs: WorkingTable[];
  inputRefs: string[];
  /** The wake-up time stored by an earlier execution of this task, if it already waited. */
  wakeAt: number | null;
  /** Records an output's working table on the run (and whether the transition fired). */
  record(port: string, table: WorkingTable, fired: boolean): Promise<void>;
}

/** The ExecuteContext an activity runs with: its inputs, its outputs, and the run's services. */
/** The values of `from` whose names the rule's parameters use. */
function pick(parameters: Record<string, unknown>, from: Record<string, Value>): Record<string, Value> {
  return Object.fromEntries(
    Object.keys(parameters)
      .filter((name) => Object.hasOwn(from, name))
      .map((name) => [name, from[name]!]),
  );
}

export function taskContext(env: TaskEnvironment): ExecuteContext {
  const { database, schema, run, activity } = env;
  const prefix = `r${run.id.replaceAll('-', '').slice(0, 12)}`;
  const log = (message: string, fields?: Parameters<ExecuteContext['log']>[1]) =>
    writeRunLog(database, run.id, activity, 'info', message, fields);
  /** The task's timer, kept on its row so that it outlives this process. */
  const storeWake = (due: number) =>
    database.db
      .updateTable('run_tasks')
      .set({ wake_at: due })
      .where('run_id', '=', run.id)
      .where('activity', '=', activity)
      .execute();
  return {
    database,
    schema,
    mode: run.mode,
    variables: run.variables,
    variableTypes: run.variableTypes,
    run: run.id,
    campaign: run.campaign,
    activity,
    now: run.now,
    filesDir: filesFolder(database.dataDir),
    inputs: env.inputs,
    inputRefs: env.inputRefs,
    async output(port, dimension, source, options = {}) {
      // A random suffix: a task executed again (after a crash or a resume) never meets its earlier tables.
      const name = `${prefix}_${randomBytes(5).toString('hex')}`;
      const table = await createWorkingTable(database, name, dimension, source, options.columns);
      await env.record(port, table, options.activate?.(table.count) ?? true);
      return table;
    },
    forward: (port, table) => env.record(port, table, true),
    rule(table, rule, over, bound) {
      // A rule over a working table's rows may name the columns they carry (an enrichment's).
      const checked = checkRule(schema, table, rule, {
        carried: over?.columns,
        ...(bound && {
          parameters: Object.fromEntries(bound.columns.map((c) => [c.name, c.type])),
          closed: bound.described,
        }),
      });
      const scope = SqlScope.root(
        {
          dialect: database.dialect,
          schema,
          now: run.now,
          // A rule's parameters are the run's variables of those names (a signal's parameters), and
          // the run's own campaign (the campaign-feedback filter's `@this`).
          variables: resolveParameters(
            bound ? {} : checked.parameters,
            bound
              ? {}
              : pick(checked.parameters, { ...run.variables, [THIS_CAMPAIGN_VARIABLE]: run.campaign }),
          ),
          parameterColumns:
            bound &&
            Object.fromEntries(bound.columns.map((c) => [c.name, sql.ref(`${bound.alias}.${c.name}`)])),
        },
        table,
        over ? workingTableRef(database, over.name) : undefined,
      );
      return { scope, where: ruleSql(checked.rule, scope) };
    },
    ref: (table) => workingTableRef(database, table.name),
    log,
    async waitUntil(at) {
      let due = env.wakeAt;
      if (due === null) {
        due = at(env.clock.now());
        await storeWake(due);
        env.wakeAt = due;
      }
      if (env.clock.now() < due) throw new TaskParked(due);
    },
    async awaitConfirmation() {
      if (!run.confirmSends) return;
      const confirmed = await database.db
        .selectFrom('send_confirmations')
        .select('run_id')
        .where('run_id', '=', run.id)
        .where('activity', '=', activity)
        .executeTakeFirst();
      if (!confirmed) throw new TaskParked(null, 'needs-confirmation');
    },
    async checkAgainAfter(ms) {
      const due = env.clock.now() + ms;
      await storeWake(due);
      throw new TaskParked(due);
    },
    async alert(alert) {
      const text = `alert (${alert.level}): ${alert.title}${alert.message ? ` — ${alert.message}` : ''}`;
      await writeRunLog(database, run.id, activity, alert.level === 'error' ? 'error' : alert.level, text, {
        event: 'alert',
        title: alert.title,
      });
      await env.notifier?.({ run: run.id, campaign: run.campaign, activity, ...alert });
    },
    async signal(campaign, parameters) {
      const target = await database.db
        .selectFrom('campaigns')
        .select('id')
        .where('id', '=', campaign)
        .executeTakeFirst();
      if (!target) throw new UserError(`cannot signal campaign ${campaign}: there is no such campaign`);
      if (run.mode === 'test') {
        await log(`test run: campaign ${campaign} is not signalled`, { event: 'signal', campaign });
        return;
      }
      await database.db
        .insertInto('campaign_signals')
        .values({
          campaign_id: campaign,
          parameters: JSON.stringify(parameters),
          source_run: run.id,
          source_activity: activity,
          created_at: new Date().toISOString(),
          consumed_at: null,
        })
        .execute();
      await log(`signalled campaign ${campaign}`, { event: 'signal', campaign });
    },
  };
}
