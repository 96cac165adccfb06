import { ACTIVITIES, findActivity } from '../activities/registry.ts';
import type { ActivityDefinition, PortDef, Population } from '../activities/types.ts';
import { ValidationError, type Issue } from '../errors.ts';
import type { WorkspaceSchema } from '../schema/types.ts';
import { parseSchedule } from './schedule.ts';
import { signalParameters } from './statuses.ts';

/**
 * The campaign document (DESIGN.md "Campaign document"): what `campaigns/*.yaml` holds, what the API
 * takes and what the canvas edits. Checking it validates every activity's config against its type and the
 * workspace, resolves every input to an existing output, orders the graph and finds cycles, and follows
 * the population (which table's rows) along every transition. All problems come back at once, each with
 * the path of the part at fault (`activities.by-tier.segments[1].limit`).
 */
export const MAX_ACTIVITIES = 500;
export const MAX_CHANNEL_ACTIVITIES = 10;
export { SCHEDULE_FREQUENCIES } from './schedule.ts';

const ID = /^[a-z0-9][a-z0-9_-]{0,99}$/;
const TOP_KEYS = ['id', 'name', 'description', 'tags', 'schedule', 'activities', 'layout'];
const COMMON_KEYS = ['type', 'label', 'description', 'input', 'inputs', 'disabled', 'pause'];

export interface CheckedActivity {
  id: string;
  definition: ActivityDefinition;
  label: string;
  /** The config with defaults filled in. */
  config: Record<string, unknown>;
  inputs: Array<{ activity: string; port: string }>;
  outputs: PortDef[];
  population: Population;
  /** Outputs that carry another population than `population`. */
  ports: Record<string, Population> | undefined;
  disabled: boolean;
  /** A breakpoint: the run stops before this activity, keeping its inputs, until it is resumed. */
  pause: boolean;
}

export interface CheckedCampaign {
  /** The document as given (what is stored and exported, unchanged). */
  document: Record<string, unknown> & { id: string; name: string; activities: Record<string, unknown> };
  /** Activities in an order where every activity comes after its inputs. */
  activities: CheckedActivity[];
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function describePopulation(population: Population): string {
  return population.kind === 'dimension' ? population.table.name : population.kind;
}

/**
 * Checks a campaign document; throws a ValidationError listing every problem, or returns the graph.
 * `audiences` (name → table) are the saved audiences read-audience activities may read.
 */
export function checkCampaign(
  schema: WorkspaceSchema,
  raw: unknown,
  audiences: ReadonlyMap<string, string> = new Map(),
): CheckedCampaign {
  const issues: Issue[] = [];
  const add = (path: string, message: string) => void issues.push({ path, message });
  if (!isRecord(raw))
    throw new ValidationError('The campaign', [
      { path: '', message: 'expected a campaign document (id, name, activities…)' },
    ]);
  for (const key of Object.keys(raw))
    if (!TOP_KEYS.includes(key)) add(key, `unknown key "${key}" (known: ${TOP_KEYS.join(', ')})`);
  if (typeof raw.id !== 'string' || !ID.test(raw.id))
    add('id', 'expected an id of lowercase letters, digits, - and _ (at most 100), such as spring-sale');
  if (typeof raw.name !== 'string' || raw.name.trim() === '' || raw.name.length > 200)
    add('name', 'give the campaign a name (1 to 200 characters)');
  if (raw.description !== undefined && typeof raw.description !== 'string')
    add('description', 'expected text');
  if (
    raw.tags !== undefined &&
    (!Array.isArray(raw.tags) || raw.tags.some((t) => typeof t !== 'string' || t === ''))
  )
    add('tags', 'expected a list of tags');
  if (raw.schedule !== undefined) {
    try {
      parseSchedule(raw.schedule);
    } catch (error) {
      if (!(error instanceof ValidationError)) throw error;
      issues.push(...error.issues);
    }
  }
  const activities = isRecord(raw.activities) ? raw.activities : undefined;
  if (!activities || Object.keys(activities).length === 0) {
    add('activities', 'a campaign needs activities: a map of activity id → { type, … }');
    throw new ValidationError('The campaign', issues);
  }
  const ids = Object.keys(activities);
  if (ids.length > MAX_ACTIVITIES) {
    add('activities', `a campaign holds at most ${MAX_ACTIVITIES} activities; this one has ${ids.length}`);
    throw new ValidationError('The campaign', issues);
  }
  if (raw.layout !== undefined) {
    if (!isRecord(raw.layout)) add('layout', 'expected a map of activity id → { x, y }');
    else {
      for (const [id, position] of Object.entries(raw.layout)) {
        if (!(id in activities)) add(`layout.${id}`, `no activity ${id}`);
        else if (!isRecord(position) || typeof position.x !== 'number' || typeof position.y !== 'number')
          add(`layout.${id}`, 'expected { x, y } numbers');
      }
    }
  }

  // Each activity on its own: its id, type, config and the shape of its inputs.
  const parsed = new Map<
    string,
    Omit<CheckedActivity, 'population' | 'ports'> & {
      inputRefs: string[];
      /** The key the document lists the inputs under, for issue paths. */
      inputsKey: 'input' | 'inputs';
      configValid: boolean;
    }
  >();
  let channels = 0;
  for (const id of ids) {
    const path = `activities.${id}`;
    const doc = activities[id];
    if (!ID.test(id))
      add(path, 'an activity id is lowercase letters, digits, - and _, starting with a letter or digit');
    if (!isRecord(doc)) {
      add(path, 'expected an activity: { type, … }');
      continue;
    }
    const definition = typeof doc.type === 'string' ? findActivity(doc.type) : undefined;
    if (!definition) {
      add(
        `${path}.type`,
        `unknown activity type ${JSON.stringify(doc.type)} (known: ${ACTIVITIES.map((a) => a.type).join(', ')})`,
      );
      continue;
    }
    if (definition.category === 'channel') channels++;
    const config = Object.fromEntries(Object.entries(doc).filter(([k]) => !COMMON_KEYS.includes(k)));
    const result = definition.config.safeParse(config);
    if (!result.success) {
      for (const problem of result.error.issues) {
        const keys = problem.code === 'unrecognized_keys' ? problem.keys : [undefined];
        for (const key of keys) {
          const at = [...problem.path.map(String), ...(key ? [key] : [])];
          const where = at.reduce((p, part) => (/^\d+$/.test(part) ? `${p}[${part}]` : `${p}.${part}`), path);
          add(where, key ? `unknown key "${key}" for ${definition.type}` : problem.message);
        }
      }
    }
    const inputRefs: string[] = [];
    const { input, inputs } = doc;
    // An activity that takes one input or several reads `inputs` when the document lists them.
    const wantsMany =
      definition.inputs === 'many' || (definition.inputs === 'one-or-many' && inputs !== undefined);
    if (definition.inputs === 'none' && (input !== undefined || inputs !== undefined))
      add(`${path}.input`, `${definition.type} takes no input`);
    if (wantsMany) {
      if (input !== undefined)
        add(`${path}.input`, `${definition.type} takes several inputs: write inputs: [a, b]`);
      if (!Array.isArray(inputs) || inputs.length < 2 || inputs.some((i) => typeof i !== 'string')) {
        add(`${path}.inputs`, `${definition.type} needs a list of at least two inputs`);
      } else inputRefs.push(...(inputs as string[]));
    } else {
      if (inputs !== undefined)
        add(`${path}.inputs`, `${definition.type} takes one input: write input: <activity>`);
      if (input !== undefined && typeof input !== 'string')
        add(`${path}.input`, 'expected an activity id, or activity.port');
      else if (typeof input === 'string') inputRefs.push(input);
      else if (definition.inputs === 'one' || definition.inputs === 'one-or-many')
        add(`${path}.input`, `${definition.type} needs an input: the activity whose population it takes`);
    }
    for (const flag of ['disabled', 'pause'] as const)
      if (doc[flag] !== undefined && typeof doc[flag] !== 'boolean')
        add(`${path}.${flag}`, 'expected true or false');
    if (doc.label !== undefined && typeof doc.label !== 'string') add(`${path}.label`, 'expected text');
    parsed.set(id, {
      id,
      definition,
      label: typeof doc.label === 'string' ? doc.label : definition.label,
      config: result.success ? result.data : config,
      inputs: [],
      inputRefs,
      inputsKey: wantsMany ? 'inputs' : 'input',
      outputs: result.success ? definition.outputs(result.data) : [],
      disabled: doc.disabled === true,
      pause: doc.pause === true,
      configValid: result.success,
    });
  }
  if (channels > MAX_CHANNEL_ACTIVITIES)
    add(
      'activities',
      `a campaign holds at most ${MAX_CHANNEL_ACTIVITIES} channel activities; this one has ${channels}`,
    );

  // Inputs resolve to outputs that exist.
  for (const activity of parsed.values()) {
    const field = activity.inputsKey;
    activity.inputRefs.forEach((ref, i) => {
      const at = `activities.${activity.id}.${field}${field === 'inputs' ? `[${i}]` : ''}`;
      const dot = ref.indexOf('.');
      const source = dot < 0 ? ref : ref.slice(0, dot);
      const port = dot < 0 ? '' : ref.slice(dot + 1);
      const from = parsed.get(source);
      if (!from) {
        if (!(source in activities)) add(at, `no activity ${source}`);
        return;
      }
      if (from.outputs.length > 0 && !from.outputs.some((o) => o.name === port)) {
        const ports = from.outputs.map((o) => (o.name ? `${source}.${o.name}` : source));
        add(
          at,
          `${source} has no output ${port ? `"${port}"` : 'of its own'}; its outputs: ${ports.join(', ') || 'none'}`,
        );
        return;
      }
      if (from.outputs.length === 0 && from.definition.type === 'end') {
        add(at, `${source} is an end: nothing comes out of it`);
        return;
      }
      activity.inputs.push({ activity: source, port });
    });
    for (const key of ['primary'] as const) {
      const primary = activity.config[key];
      if (typeof primary === 'string' && !activity.inputRefs.includes(primary)) {
        add(
          `activities.${activity.id}.${key}`,
          `${primary} is not one of the inputs (${activity.inputRefs.join(', ')})`,
        );
      }
    }
  }

  // Order the graph (every activity after its inputs); what cannot be ordered is in a cycle.
  const order: string[] = [];
  const remaining = new Map(
    [...parsed.values()].map((a) => [a.id, new Set(a.inputs.map((i) => i.activity))]),
  );
  for (let progress = true; progress;) {
    progress = false;
    for (const [id, waiting] of remaining) {
      if ([...waiting].every((source) => order.includes(source))) {
        order.push(id);
        remaining.delete(id);
        progress = true;
      }
    }
  }
  for (const id of remaining.keys())
    add(`activities.${id}`, `${id} is part of a cycle: an activity cannot depend on its own output`);
  if (![...parsed.values()].some((a) => a.inputRefs.length === 0)) {
    add('activities', 'the campaign has no starting activity (one without an input, such as build-audience)');
  }

  const variables = Object.fromEntries(signalParameters(raw).map((p) => [p.name, p.type]));
  // Follow the population along the transitions, in order.
  const checked = new Map<string, CheckedActivity>();
  for (const id of order) {
    const activity = parsed.get(id)!;
    const inputs = activity.inputs.map((i) => {
      const from = checked.get(i.activity);
      return from?.ports?.[i.port] ?? from?.population ?? { kind: 'unknown' as const };
    });
    // A config that does not have its shape is already reported; its meaning cannot be checked.
    const result = activity.configValid
      ? activity.definition.check(activity.config, {
          schema,
          inputs,
          inputRefs: activity.inputs.map((i) => (i.port ? `${i.activity}.${i.port}` : i.activity)),
          path: `activities.${id}`,
          audiences,
          variables,
        })
      : { population: { kind: 'unknown' as const }, issues: [] };
    issues.push(...result.issues);
    checked.set(id, {
      id: activity.id,
      definition: activity.definition,
      label: activity.label,
      config: activity.config,
      inputs: activity.inputs,
      outputs: activity.outputs,
      disabled: activity.disabled,
      pause: activity.pause,
      population: result.population,
      ports: 'ports' in result ? result.ports : undefined,
    });
  }
  if (issues.length > 0)
    throw new ValidationError(`The campaign${typeof raw.id === 'string' ? ` ${raw.id}` : ''}`, issues);
  return {
    document: raw as CheckedCampaign['document'],
    activities: order.map((id) => checked.get(id)!),
  };
}

/** A one-line description of an activity's output population, for listings. */
export function populationName(activity: CheckedActivity): string {
  return describePopulation(activity.population);
}
