import { sql } from 'kysely';
import { expect } from 'vitest';
import { checkRule } from '../../src/rules/check-rule.ts';
import { Dataset, type Row } from '../../src/rules/dataset.ts';
import { ruleHolds } from '../../src/rules/rule-evaluate.ts';
import { prepareRule, resolveParameters } from '../../src/rules/rule-service.ts';
import { findTable, type WorkspaceSchema } from '../../src/schema/types.ts';
import type { TestDatabase } from './databases.ts';
import { HARNESS_ITEMS, HARNESS_NOW, HARNESS_REFS, HARNESS_ROWS, HARNESS_SCHEMA } from './expressions.ts';

/**
 * Rules evaluated two ways — by the database under test and in memory — returning the primary keys they
 * select, sorted. `expectRuleAgrees` holds the two equal.
 */
export interface RuleCase {
  rule: unknown;
  parameters?: Record<string, unknown>;
  dimension?: string;
  now?: number;
}

export async function sqlRuleIds(t: TestDatabase, c: RuleCase): Promise<number[]> {
  const { scope, where } = await prepareRule(t.database, {
    dimension: c.dimension ?? 't',
    rule: c.rule,
    parameters: c.parameters,
    now: c.now ?? HARNESS_NOW,
  });
  const key = scope.table.primaryKey[0]!;
  const result = await sql<{
    id: unknown;
  }>`SELECT ${sql.ref(`${scope.alias}.${key}`)} AS id FROM ${scope.from()} WHERE ${where}`.execute(
    t.database.db,
  );
  return result.rows.map((r) => Number(r.id)).sort((a, b) => a - b);
}

export function memoryRuleIds(
  c: RuleCase,
  data: { schema: WorkspaceSchema; rows: Record<string, Row[]> } = {
    schema: HARNESS_SCHEMA,
    rows: { t: HARNESS_ROWS, items: HARNESS_ITEMS, r: HARNESS_REFS },
  },
): number[] {
  const dimension = findTable(data.schema, c.dimension ?? 't')!;
  const checked = checkRule(data.schema, dimension, c.rule);
  const variables = resolveParameters(checked.parameters, c.parameters);
  const dataset = new Dataset(data.schema, data.rows);
  const run = { now: c.now ?? HARNESS_NOW, variables };
  const key = dimension.primaryKey[0]!;
  return (data.rows[dimension.name] ?? [])
    .filter((row) => ruleHolds(checked.rule, dataset.context(dimension.name, row, run)))
    .map((row) => row[key] as number)
    .sort((a, b) => a - b);
}

export async function expectRuleAgrees(t: TestDatabase, c: RuleCase): Promise<number[]> {
  const fromDatabase = await sqlRuleIds(t, c);
  expect(fromDatabase, `${JSON.stringify(c.rule)} on ${t.database.kind}`).toEqual(memoryRuleIds(c));
  return fromDatabase;
}
