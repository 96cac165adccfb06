import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { roundDecimalAt } from '../../src/rules/expression/functions/decimal-rounding.ts';
import { kindsUnderTest, PG_URL } from '../helpers/databases.ts';

/**
 * Decimal rounding against PostgreSQL's exact `numeric` arithmetic, the reference both the in-memory
 * evaluator and SQLite's user-defined function must reproduce: random values of every magnitude, many
 * of them at or right next to a tie, at 0 to 8 places.
 */
function samples(): Array<{ value: number; places: number }> {
  let state = 20261128;
  const next = () => {
    state = (Math.imul(state, 1_103_515_245) + 12345) >>> 0;
    return state / 4294967296;
  };
  const out: Array<{ value: number; places: number }> = [];
  for (let i = 0; i < 20_000; i++) {
    const places = Math.floor(next() * 9);
    const magnitude = 10 ** Math.floor(next() * 16 - 6);
    const kind = next();
    let value: number;
    if (kind < 0.4) {
      // A tie at `places` (…5 one digit further), or the doubles on either side of it.
      const unit = 10 ** -places;
      const base = Math.floor(next() * 1e6) * unit + unit / 2;
      value = kind < 0.2 ? base : base * (1 + (next() < 0.5 ? -1 : 1) * Number.EPSILON);
    } else {
      value = next() * magnitude;
    }
    out.push({ value: next() < 0.3 ? -value : value, places });
  }
  return out;
}

describe('decimal rounding', () => {
  it.runIf(kindsUnderTest().includes('postgres'))(
    'rounds exactly as PostgreSQL numeric does after a double',
    async () => {
      const cases = samples();
      const client = new pg.Client({ connectionString: PG_URL });
      await client.connect();
      try {
        const result = await client.query<{ r: string }>(
          `SELECT CAST(round(CAST(CAST(v AS double precision) AS numeric), p) AS double precision)::text AS r
           FROM unnest($1::float8[], $2::int[]) WITH ORDINALITY AS c(v, p, n) ORDER BY n`,
          [cases.map((c) => c.value), cases.map((c) => c.places)],
        );
        const mismatches = cases
          .map((c, i) => ({
            ...c,
            postgres: Number(result.rows[i]!.r) + 0,
            baton: roundDecimalAt(c.value, c.places, 'round'),
          }))
          .filter((c) => c.postgres !== c.baton);
        expect(mismatches.slice(0, 5)).toEqual([]);
      } finally {
        await client.end();
      }
    },
  );

  it('rounds half away from zero on the 15-digit form', () => {
    expect(roundDecimalAt(2.675, 2, 'round')).toBe(2.68);
    expect(roundDecimalAt(-2.675, 2, 'round')).toBe(-2.68);
    expect(roundDecimalAt(1.005, 2, 'round')).toBe(1.01);
    expect(roundDecimalAt(0.1 + 0.2, 6, 'round')).toBe(0.3);
    expect(roundDecimalAt(-0.0000004, 6, 'round')).toBe(0);
    expect(Object.is(roundDecimalAt(-0.0000004, 6, 'round'), -0)).toBe(false);
    expect(roundDecimalAt(9007199254740 / 7, 6, 'round')).toBe(1286742750677.14);
  });
});
