import type { z } from 'zod';
import type { Issue } from '../errors.ts';
import type { TableDef, WorkspaceSchema } from '../schema/types.ts';

/**
 * The contract of an activity type: what the campaign document may say about it (its config schema),
 * what it consumes and produces (inputs and output ports), and the checks it makes against the workspace
 * schema. The validator, the API and the canvas palette learn about activities from these definitions;
 * adding one is adding one file to src/activities/ and listing it in the registry.
 */
export type ActivityCategory = 'targeting' | 'flow' | 'channel';

/** How many inbound transitions an activity takes. */
export type InputArity = 'none' | 'one' | 'many' | 'optional';

/**
 * The population on a transition: rows of a table of the workspace (a dimension), rows of a loaded file
 * (no dimension yet), or unknown until run time (an audience saved by another campaign).
 */
export type Population = { kind: 'dimension'; table: TableDef } | { kind: 'file' } | { kind: 'unknown' };

export interface PortDef {
  /** '' for the main output (named by the activity id alone), otherwise `activity.port`. */
  name: string;
  label: string;
}

export interface ActivityContext {
  schema: WorkspaceSchema;
  /** The populations of the activity's inputs, in the order the document lists them. */
  inputs: Population[];
  /** Where this activity's config sits in the document, for issue paths (`activities.by-tier`). */
  path: string;
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
  check(config: Config, ctx: ActivityContext): { population: Population; issues: Issue[] };
}

/** Defines an activity with its config type inferred from its schema. */
export function defineActivity<Schema extends z.ZodType<Record<string, unknown>>>(
  definition: Omit<ActivityDefinition<z.infer<Schema>>, 'config'> & { config: Schema },
): ActivityDefinition {
  return definition;
}

export const MAIN: PortDef = { name: '', label: 'result' };
export const COMPLEMENT: PortDef = { name: 'complement', label: 'complement' };
