import { randomUUID } from 'node:crypto';
import type { Selectable } from 'kysely';
import type { Database } from '../db/database.ts';
import type { BatonTables } from '../db/tables.ts';
import { ConflictError, NotFoundError, UserError, ValidationError, type Issue } from '../errors.ts';
import { loadSchema, requireSchema, requireTable } from '../schema/store.ts';
import { COLUMN_TYPES, type WorkspaceSchema } from '../schema/types.ts';
import { BUILT_IN_FILTERS, builtInFilter, type BuiltInFilter } from './built-in-filters.ts';
import { checkRule, literalFor } from './check-rule.ts';
import type { RuleParameters } from './rule.ts';
import type { RuleRequest } from './rule-service.ts';
import type { ValueType } from './values.ts';

/**
 * Saved (predefined) filters: a rule with a label, kept for reuse. A filter may declare typed parameters
 * (`{ param: since }` in its rule) with defaults; applying it means running its rule with values for
 * them. Shared filters are visible to every user, private ones to their owner once users exist.
 */
export interface FilterParameter {
  name: string;
  type: ValueType;
  label?: string;
  /** The value used when applying the filter without one (as JSON gives it). */
  default?: unknown;
  /** The values allowed (a built-in filter's choice). */
  values?: string[];
  /** A built-in filter's parameter that may be left out. */
  optional?: true;
}

export interface SavedFilter {
  id: string;
  label: string;
  description: string | null;
  /** null for a built-in filter, which applies to every targeting dimension. */
  dimension: string | null;
  rule: unknown;
  parameters: FilterParameter[];
  shared: boolean;
  favorite: boolean;
  /** Provided by Baton (src/rules/built-in-filters.ts): read-only, its rule stands for its parameters. */
  builtIn: boolean;
  createdAt: string | null;
  updatedAt: string | null;
}

export interface FilterInput {
  label?: unknown;
  description?: unknown;
  dimension?: unknown;
  rule?: unknown;
  parameters?: unknown;
  shared?: unknown;
  favorite?: unknown;
}

const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

function toFilter(row: Selectable<BatonTables['saved_filters']>): SavedFilter {
  return {
    id: row.id,
    label: row.label,
    description: row.description,
    dimension: row.dimension,
    rule: JSON.parse(row.rule) as unknown,
    parameters: JSON.parse(row.parameters) as FilterParameter[],
    shared: Boolean(row.shared),
    favorite: Boolean(row.favorite),
    builtIn: false,
    createdAt: new Date(row.created_at).toISOString(),
    updatedAt: new Date(row.updated_at).toISOString(),
  };
}

function fromBuiltIn(filter: BuiltInFilter): SavedFilter {
  return {
    id: filter.id,
    label: filter.label,
    description: filter.description,
    dimension: null,
    rule: { filter: filter.id },
    parameters: filter.parameters,
    shared: true,
    favorite: false,
    builtIn: true,
    createdAt: null,
    updatedAt: null,
  };
}

/** Built-in filters apply to targeting dimensions: listed when the workspace (or the asked dimension) is one. */
function builtInsFor(schema: WorkspaceSchema | undefined, dimension: string | undefined): SavedFilter[] {
  const applies = schema?.tables.some(
    (t) => t.targeting !== undefined && (dimension === undefined || t.name === dimension),
  );
  return applies ? BUILT_IN_FILTERS.map(fromBuiltIn) : [];
}

function refuseBuiltIn(id: string): void {
  if (builtInFilter(id))
    throw new UserError(`The filter ${id} is built in and cannot be changed or deleted.`);
}

/** Checks a filter's fields and its rule against the schema; parameters the rule uses are declared. */
type CheckedFilter = Omit<SavedFilter, 'id' | 'createdAt' | 'updatedAt' | 'builtIn' | 'dimension'> & {
  dimension: string;
};

async function checkInput(
  database: Database,
  input: FilterInput,
  base?: SavedFilter,
): Promise<CheckedFilter> {
  const issues: Issue[] = [];
  const label = input.label ?? base?.label;
  if (typeof label !== 'string' || label.trim() === '' || label.length > 200) {
    issues.push({ path: 'label', message: 'give the filter a label (1 to 200 characters)' });
  }
  const description = input.description === undefined ? (base?.description ?? null) : input.description;
  if (description !== null && (typeof description !== 'string' || description.length > 2000)) {
    issues.push({ path: 'description', message: 'expected text of at most 2,000 characters' });
  }
  const flag = (key: 'shared' | 'favorite') => {
    const value = input[key] ?? base?.[key] ?? false;
    if (typeof value !== 'boolean') issues.push({ path: key, message: 'expected true or false' });
    return value === true;
  };
  const shared = flag('shared');
  const favorite = flag('favorite');
  const rawParameters = input.parameters ?? base?.parameters ?? [];
  const parameters: FilterParameter[] = [];
  if (!Array.isArray(rawParameters))
    issues.push({ path: 'parameters', message: 'expected a list of { name, type, label?, default? }' });
  else {
    rawParameters.forEach((p: unknown, i) => {
      const at = `parameters[${i}]`;
      const item = (typeof p === 'object' && p !== null ? p : {}) as Record<string, unknown>;
      if (typeof item.name !== 'string' || !NAME.test(item.name))
        return issues.push({ path: `${at}.name`, message: 'expected a name of letters, digits and _' });
      if (parameters.some((q) => q.name === item.name))
        return issues.push({ path: `${at}.name`, message: `parameter ${item.name} is declared twice` });
      if (typeof item.type !== 'string' || !(COLUMN_TYPES as readonly string[]).includes(item.type)) {
        return issues.push({ path: `${at}.type`, message: `expected one of ${COLUMN_TYPES.join(', ')}` });
      }
      const declared: FilterParameter = { name: item.name, type: item.type as ValueType };
      if (typeof item.label === 'string') declared.label = item.label;
      else if (item.label !== undefined)
        return issues.push({ path: `${at}.label`, message: 'expected text' });
      if (item.default !== undefined && item.default !== null) {
        const literal = literalFor(declared.type, item.default);
        if ('problem' in literal) return issues.push({ path: `${at}.default`, message: literal.problem });
        declared.default = item.default;
      }
      parameters.push(declared);
    });
  }
  const dimension = input.dimension ?? base?.dimension;
  const rule = input.rule ?? base?.rule;
  if (typeof dimension !== 'string')
    issues.push({ path: 'dimension', message: 'name the table the filter selects rows of' });
  if (rule === undefined) issues.push({ path: 'rule', message: 'a filter needs a rule' });
  if (issues.length > 0) throw new ValidationError('The filter', issues);
  const { schema } = await requireSchema(database);
  const table = requireTable(schema, dimension as string);
  const declared: RuleParameters = Object.fromEntries(parameters.map((p) => [p.name, p.type]));
  const checked = checkRule(schema, table, rule, { parameters: declared });
  // Parameters the rule uses without declaring them are declared with the type they were inferred as.
  for (const [name, type] of Object.entries(checked.parameters)) {
    if (!parameters.some((p) => p.name === name)) parameters.push({ name, type });
  }
  return {
    label: (label as string).trim(),
    description: description as string | null,
    dimension: table.name,
    rule,
    parameters,
    shared,
    favorite,
  };
}

/** A checked filter as the columns of its row. */
function columnsOf(database: Database, checked: CheckedFilter) {
  return {
    label: checked.label,
    description: checked.description,
    dimension: checked.dimension,
    rule: JSON.stringify(checked.rule),
    parameters: JSON.stringify(checked.parameters),
    shared: database.dialect.storedBoolean(checked.shared),
    favorite: database.dialect.storedBoolean(checked.favorite),
  };
}

async function labelTaken(database: Database, label: string, except?: string): Promise<void> {
  const clash = await database.db
    .selectFrom('saved_filters')
    .select('id')
    .where('label', '=', label)
    .executeTakeFirst();
  if (clash && clash.id !== except)
    throw new ConflictError(`A filter named "${label}" already exists; choose another label.`);
}

export async function createFilter(database: Database, input: FilterInput): Promise<SavedFilter> {
  const checked = await checkInput(database, input);
  await labelTaken(database, checked.label);
  const now = new Date().toISOString();
  const id = randomUUID();
  await database.db
    .insertInto('saved_filters')
    .values({
      id,
      ...columnsOf(database, checked),
      owner: null,
      created_at: now,
      updated_at: now,
    })
    .execute();
  return getFilter(database, id);
}

export async function getFilter(database: Database, id: string): Promise<SavedFilter> {
  const builtIn = builtInFilter(id);
  if (builtIn) return fromBuiltIn(builtIn);
  const row = await database.db
    .selectFrom('saved_filters')
    .selectAll()
    .where('id', '=', id)
    .executeTakeFirst();
  if (!row) throw new NotFoundError(`No saved filter ${id}.`);
  return toFilter(row);
}

export async function listFilters(
  database: Database,
  options: { dimension?: string; search?: string; favorite?: boolean } = {},
): Promise<SavedFilter[]> {
  let query = database.db
    .selectFrom('saved_filters')
    .selectAll()
    .orderBy('favorite', 'desc')
    .orderBy('label');
  if (options.dimension) query = query.where('dimension', '=', options.dimension);
  if (options.favorite !== undefined)
    query = query.where('favorite', '=', database.dialect.storedBoolean(options.favorite));
  const builtIns =
    options.favorite === true ? [] : builtInsFor((await loadSchema(database))?.schema, options.dimension);
  const rows = [...builtIns, ...(await query.execute()).map(toFilter)];
  const search = options.search?.toLowerCase();
  return search
    ? rows.filter(
        (f) => f.label.toLowerCase().includes(search) || (f.description ?? '').toLowerCase().includes(search),
      )
    : rows;
}

export async function updateFilter(database: Database, id: string, input: FilterInput): Promise<SavedFilter> {
  refuseBuiltIn(id);
  const base = await getFilter(database, id);
  const checked = await checkInput(database, input, base);
  await labelTaken(database, checked.label, id);
  await database.db
    .updateTable('saved_filters')
    .set({
      ...columnsOf(database, checked),
      updated_at: new Date().toISOString(),
    })
    .where('id', '=', id)
    .execute();
  return getFilter(database, id);
}

export async function deleteFilter(database: Database, id: string): Promise<void> {
  refuseBuiltIn(id);
  const result = await database.db.deleteFrom('saved_filters').where('id', '=', id).executeTakeFirst();
  if (Number(result.numDeletedRows) === 0) throw new NotFoundError(`No saved filter ${id}.`);
}

/**
 * A rule request that applies a saved filter: its rule, its declared types, defaults under the given
 * values. A built-in filter becomes a rule of one condition naming it with the values; it selects rows
 * of `dimension`, or of the workspace's targeting dimension when it has only one.
 */
export async function filterRequest(
  database: Database,
  id: string,
  values: Record<string, unknown> = {},
  dimension?: string,
): Promise<RuleRequest> {
  const builtIn = builtInFilter(id);
  if (builtIn) {
    const defaults = builtIn.parameters.flatMap((p): Array<[string, unknown]> =>
      p.default === undefined ? [] : [[p.name, p.default]],
    );
    return {
      dimension: dimension ?? (await onlyTargetingDimension(database, id)),
      rule: { filter: id, parameters: { ...Object.fromEntries(defaults), ...values } },
    };
  }
  const filter = await getFilter(database, id);
  const parameters: Record<string, unknown> = {};
  for (const p of filter.parameters) {
    const value = values[p.name] ?? p.default;
    if (value !== undefined) parameters[p.name] = value;
  }
  for (const name of Object.keys(values)) if (!(name in parameters)) parameters[name] = values[name];
  return {
    dimension: filter.dimension!,
    rule: filter.rule,
    parameters,
    declared: Object.fromEntries(filter.parameters.map((p) => [p.name, p.type])),
  };
}

async function onlyTargetingDimension(database: Database, filter: string): Promise<string> {
  const { schema } = await requireSchema(database);
  const targeting = schema.tables.filter((t) => t.targeting);
  if (targeting.length === 1) return targeting[0]!.name;
  throw new UserError(
    targeting.length === 0
      ? `The filter ${filter} selects recipients, and the workspace has no targeting dimension.`
      : `Name the dimension the filter ${filter} selects rows of: ${targeting.map((t) => t.name).join(', ')}.`,
  );
}
