import { z } from 'zod';
import { ruleShape } from '../activities/checks.ts';
import { UserError } from '../errors.ts';
import { findTable, type LinkDef, type TableDef, type WorkspaceSchema } from '../schema/types.ts';

/**
 * One message per row of a one-to-many link of the recipients' table instead of one per recipient (one
 * email per booked flight): `perRowOf: bookings`, or with the rows it is about and where it goes —
 * `perRowOf: { link: bookings, where: <rule over a booking>, address: contact_email }`. The address is
 * the recipient's unless `address` names a column of the row (an email given at booking).
 */
export const perRowOfShape = z.union([
  z.string().min(1),
  z.strictObject({
    link: z.string().min(1),
    where: ruleShape.optional(),
    address: z.string().min(1).optional(),
  }),
]);

export interface PerRowSpec {
  link: string;
  where?: unknown;
  address?: string;
}

export interface PerRow extends PerRowSpec {
  linkDef: LinkDef;
  /** The link's table: each of its rows the link reaches is a message. */
  table: TableDef;
}

export function perRowSpec(config: { perRowOf?: unknown }): PerRowSpec | undefined {
  const value = config.perRowOf as z.infer<typeof perRowOfShape> | undefined;
  if (value === undefined) return undefined;
  return typeof value === 'string' ? { link: value } : value;
}

/** The link of a checked campaign's perRowOf; an error only when the schema changed since it was checked. */
export function resolvePerRow(
  schema: WorkspaceSchema,
  dimension: TableDef,
  config: { perRowOf?: unknown },
): PerRow | undefined {
  const spec = perRowSpec(config);
  if (!spec) return undefined;
  const linkDef = dimension.links.find((l) => l.name === spec.link && l.cardinality === 'one-to-many');
  const table = linkDef && findTable(schema, linkDef.table);
  if (!linkDef || !table)
    throw new UserError(
      `perRowOf names ${spec.link}, which is no longer a one-to-many link of ${dimension.name}: check the campaign again.`,
    );
  return { ...spec, linkDef, table };
}
