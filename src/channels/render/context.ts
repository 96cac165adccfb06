import type { SendingChannel } from '../types.ts';

/**
 * The variables of one message's templates. Values are typed JSON as the database dialect reads them
 * (`SqlDialect.fromDriver`): numbers, booleans, strings, null, and dates and datetimes as ISO 8601
 * strings, which Liquid's `date` filter reads.
 */
export type JsonValue = string | number | boolean | null;

export type TargetVariables = Record<string, JsonValue | Array<Record<string, JsonValue>>>;

export interface RenderContext {
  /** The recipient's row of the targeting dimension. */
  profile: Record<string, JsonValue>;
  /** The working table's carried columns (enrichment…), plus each enrichment collection as an array. */
  target: TargetVariables;
  campaign: { id: string; name: string };
  message: { id: string; channel: SendingChannel };
  /** With perRowOf, the row of the link this message is about (one booking of the recipient's). */
  item?: Record<string, JsonValue>;
}

export function buildRenderContext(input: {
  profile: Record<string, JsonValue>;
  /** The names of the working table's carried columns, and the recipient's row of it. */
  carried: readonly string[];
  row: Record<string, JsonValue>;
  campaign: { id: string; name: string };
  message: { id: string; channel: SendingChannel };
  item?: Record<string, JsonValue>;
}): RenderContext {
  return {
    profile: { ...input.profile },
    target: targetVariables(input.carried, input.row),
    campaign: { id: input.campaign.id, name: input.campaign.name },
    message: { id: input.message.id, channel: input.message.channel },
    ...(input.item && { item: { ...input.item } }),
  };
}

/** Enrichment names the columns of a collection's lines `<collection>_<line>_<column>` (purchases_2_amount). */
const LINE_COLUMN = /^(.+?)_(\d+)_(.+)$/;

/**
 * The carried columns as they are (`target.latest_1_amount`), and every enrichment collection gathered
 * into an array of its lines as well (`target.latest = [{ amount }, …]`), so a template can loop over
 * the lines (`{% for p in target.latest %}`) instead of naming each. A group counts as a collection only
 * when it has a line 1, so a lone column that merely looks numbered (`top_10_score`) stays a plain
 * column; lines whose values are all null (the recipient has fewer rows than lines) are left out; a
 * carried column that already has the collection's name wins over the array.
 */
export function targetVariables(carried: readonly string[], row: Record<string, JsonValue>): TargetVariables {
  // Entries then Object.fromEntries: a column named like `__proto__` becomes a plain own property.
  const entries: Array<[string, JsonValue | Array<Record<string, JsonValue>>]> = [];
  const collections = new Map<string, Map<number, Array<[string, JsonValue]>>>();
  for (const name of carried) {
    const value = Object.hasOwn(row, name) ? (row[name] ?? null) : null;
    entries.push([name, value]);
    const match = LINE_COLUMN.exec(name);
    if (!match) continue;
    const [, collection, lineText, column] = match as unknown as [string, string, string, string];
    const lines = collections.get(collection) ?? new Map<number, Array<[string, JsonValue]>>();
    collections.set(collection, lines);
    const line = Number(lineText);
    lines.set(line, [...(lines.get(line) ?? []), [column, value]]);
  }
  const names = new Set(carried);
  for (const [collection, lines] of collections) {
    if (!lines.has(1) || names.has(collection)) continue;
    const array = [...lines.entries()]
      .sort(([a], [b]) => a - b)
      .filter(([, values]) => values.some(([, v]) => v !== null))
      .map(([, values]) => Object.fromEntries(values));
    entries.push([collection, array]);
  }
  return Object.fromEntries(entries);
}
