import pg from 'pg';
import { describe, expect, it } from 'vitest';
import { roundDecimalAt, roundingThreshold } from '../../src/rules/expression/functions/decimal-rounding.ts';
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

  it('moves a comparison of a rounded figure onto a threshold, exactly, at the doubles around it', () => {
    const neighbours = (x: number) => {
      const view = new DataView(new ArrayBuffer(8));
      view.setFloat64(0, x);
      const bits = view.getBigInt64(0);
      return [-2n, -1n, 0n, 1n, 2n].map((d) => {
        view.setBigInt64(0, bits + (x >= 0 ? d : -d));
        return view.getFloat64(0);
      });
    };
    const targets = [300, 0, -0.5, 0.0000005, 0.000001, 12.345678, -1234.5, 1e-7, 99.99, 2.675, 1e12 + 0.5];
    for (const target of targets) {
      for (const strict of [false, true]) {
        const threshold = roundingThreshold(target, 6, strict);
        for (const value of [...neighbours(threshold), ...neighbours(target), target - 5e-7, target + 5e-7]) {
          if (!Number.isFinite(value)) continue;
          const rounded = roundDecimalAt(value, 6, 'round');
          expect(value >= threshold, `${value} vs ${target} ${strict ? '>' : '>='}`).toBe(
            strict ? rounded > target : rounded >= target,
          );
        }
      }
    }
    // The first double whose 15-digit form, 299.999999500000, is the tie that rounds up to 300.
    expect(roundingThreshold(300, 6, false)).toBe(299.99999949999955);
    expect(roundDecimalAt(299.99999949999955, 6, 'round')).toBe(300);
    expect(roundingThreshold(Infinity, 6, true)).toBe(Infinity);
    expect(roundingThreshold(-Infinity, 6, false)).toBe(-Infinity);
  });
});
