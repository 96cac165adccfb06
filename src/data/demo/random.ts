/**
 * A small seeded pseudo-random generator for the demo data. Demo data must be reproducible (same seed, same
 * rows, on every machine and every Node version), so nothing here may touch Math.random.
 *
 * The core is sfc32 (Chris Doty-Humphrey's "small fast counting" generator): 128 bits of state, 32-bit
 * integer arithmetic only, and good statistical quality for its speed. A generator can be re-keyed in place
 * to an independent stream (`reset(key, stream, index)`), which lets the demo generator derive every
 * profile's attributes from its own id without allocating a generator per row or replaying earlier rows.
 */

/** The four 32-bit words a seed hashes to. */
export type SeedKey = readonly [number, number, number, number];

const TWO_POW_32 = 4294967296;

/** Murmur3's 32-bit finalizer: every input bit affects every output bit, which sfc32's state needs. */
function avalanche(h: number): number {
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/**
 * Hashes a seed into four independent words. Each lane starts from a different constant so that the lanes
 * differ even for a one-character seed.
 */
export function seedKey(seed: string | number): SeedKey {
  const text = typeof seed === 'number' ? `#${seed}` : seed;
  let h0 = 0x243f6a88;
  let h1 = 0x85a308d3;
  let h2 = 0x13198a2e;
  let h3 = 0x03707344;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h0 = Math.imul(h0 ^ c, 0x01000193);
    h1 = Math.imul(h1 ^ c, 0x5bd1e995);
    h2 = Math.imul(h2 ^ c, 0x27d4eb2f);
    h3 = Math.imul(h3 ^ c, 0x165667b1);
  }
  // The length goes in too, so that seeds differing only by trailing NULs do not collide.
  const n = text.length;
  return [avalanche(h0 ^ n), avalanche(h1 ^ h0 ^ n), avalanche(h2 ^ h1 ^ n), avalanche(h3 ^ h2 ^ n)];
}

export class Random {
  private a = 0;
  private b = 0;
  private c = 0;
  private d = 0;

  /** A generator for one seed, or for one stream of it when `stream`/`index` are given. */
  constructor(seed: string | number | SeedKey, stream = 0, index = 0) {
    this.reset(typeof seed === 'object' ? seed : seedKey(seed), stream, index);
  }

  /**
   * Re-keys this generator to the stream (`stream`, `index`) of `key`, in place. Distinct (stream, index)
   * pairs give unrelated sequences; the same pair always gives the same sequence.
   */
  reset(key: SeedKey, stream: number, index: number): this {
    const lo = index >>> 0;
    const hi = Math.floor(index / TWO_POW_32) >>> 0;
    const s = avalanche(Math.imul(stream + 1, 0x9e3779b9));
    this.a = avalanche(key[0] ^ avalanche(lo ^ s));
    this.b = avalanche(key[1] ^ avalanche(hi ^ this.a ^ 0x6a09e667));
    this.c = avalanche(key[2] ^ avalanche(s ^ this.b ^ lo));
    this.d = key[3] | 1;
    // sfc32 is weak for its first outputs after keying; a few discarded rounds let the counter diffuse.
    for (let i = 0; i < 8; i++) this.next();
    return this;
  }

  /** The next 32-bit unsigned integer. */
  next(): number {
    const t = (((this.a + this.b) | 0) + this.d) | 0;
    this.d = (this.d + 1) | 0;
    this.a = this.b ^ (this.b >>> 9);
    this.b = (this.c + (this.c << 3)) | 0;
    this.c = (this.c << 21) | (this.c >>> 11);
    this.c = (this.c + t) | 0;
    return t >>> 0;
  }

  /** A float in [0, 1). */
  float(): number {
    return this.next() / TWO_POW_32;
  }

  /** An integer in [min, max], both included. */
  int(min: number, max: number): number {
    return min + Math.floor(this.float() * (max - min + 1));
  }

  /** True with probability `p`. */
  chance(p: number): boolean {
    return this.float() < p;
  }

  pick<T>(items: readonly T[]): T {
    if (items.length === 0) throw new RangeError('cannot pick from an empty list');
    return items[Math.floor(this.float() * items.length)]!;
  }

  /**
   * One value, with probability proportional to its weight. Scans the list: fine for a handful of pairs;
   * hot paths over long lists precompute a {@link WeightedTable} instead.
   */
  weighted<T>(pairs: ReadonlyArray<readonly [T, number]>): T {
    let total = 0;
    for (const [, w] of pairs) total += w;
    let r = this.float() * total;
    for (const [value, w] of pairs) {
      if (r < w) return value;
      r -= w;
    }
    // Rounding can leave r a hair above the last weight; the last value with weight is the right answer.
    for (let i = pairs.length - 1; i >= 0; i--) if (pairs[i]![1] > 0) return pairs[i]![0];
    throw new RangeError('cannot pick from weights that are all zero');
  }

  /** A value from a precomputed weighted table (binary search on cumulative weights). */
  draw<T>(table: WeightedTable<T>): T {
    const r = this.float() * table.total;
    const cumulative = table.cumulative;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cumulative[mid]! > r) hi = mid;
      else lo = mid + 1;
    }
    return table.values[lo]!;
  }
}

/** Weighted choices prepared once, for values drawn millions of times. */
export interface WeightedTable<T> {
  readonly values: readonly T[];
  readonly cumulative: Float64Array;
  readonly total: number;
}

export function weightedTable<T>(pairs: ReadonlyArray<readonly [T, number]>): WeightedTable<T> {
  const values: T[] = [];
  const weights: number[] = [];
  for (const [value, w] of pairs) {
    if (!(w >= 0) || !Number.isFinite(w)) throw new RangeError(`invalid weight ${w}`);
    // A zero-weight entry could still be chosen by the binary search at a boundary; leave it out.
    if (w === 0) continue;
    values.push(value);
    weights.push(w);
  }
  if (values.length === 0) throw new RangeError('cannot pick from weights that are all zero');
  const cumulative = new Float64Array(values.length);
  let total = 0;
  for (let i = 0; i < weights.length; i++) {
    total += weights[i]!;
    cumulative[i] = total;
  }
  return { values, cumulative, total };
}
