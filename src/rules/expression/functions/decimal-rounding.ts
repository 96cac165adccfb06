/**
 * Decimal rounding as SQL does it, shared by the numeric functions (Round, Trunc, Ceil, Floor…) and the
 * aggregates (sums and averages rounded to 6 places). It works on a double's 15-significant-digit form,
 * the way PostgreSQL casts a double to `numeric`, so the in-memory evaluator, SQLite (which calls this
 * code as a user-defined function) and PostgreSQL (which computes in `numeric`) agree, ties included.
 */

/**
 * Rounding places are clamped to this: a double has no digit beyond 10^±400, so the clamp never changes a
 * result, and it keeps PostgreSQL's `integer` places argument and the BigInt powers of ten small.
 */
export const PLACES_LIMIT = 400;

export type Rounding = 'round' | 'trunc' | 'floor' | 'ceil';

/** `significand × 2^power` = |value|, exactly. */
function binaryParts(value: number): { significand: bigint; power: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(value));
  const bits = view.getBigUint64(0);
  const biased = Number(bits >> 52n);
  const fraction = bits & ((1n << 52n) - 1n);
  return {
    significand: biased === 0 ? fraction : fraction | (1n << 52n),
    power: Math.max(biased, 1) - 1075,
  };
}

/** Whether |value| is exactly `digits × 10^scale`. */
function isExactly(value: number, digits: bigint, scale: number): boolean {
  const { significand, power } = binaryParts(value);
  const pow = (base: bigint, exponent: number) => base ** BigInt(Math.max(exponent, 0));
  return significand * pow(2n, power) * pow(10n, -scale) === digits * pow(10n, scale) * pow(2n, -power);
}

/**
 * The 15-significant-digit form of an exact tie, as `d.dddddddddddddde±x`; undefined for other values.
 * PostgreSQL takes the form from C's printf, which breaks a tie (a double that is exactly a 16-digit
 * decimal ending in 5, such as 2^-22 or 100000000000000.5) to even; JavaScript breaks it upwards.
 */
function tieForm(value: number): string | undefined {
  // With more than 22 binary fraction digits a double has more than 16 significant decimal digits
  // (5^23 > 10^16), so it cannot be a tie: the common case, spared the exact check.
  if (!Number.isInteger(value * 2 ** 22)) return undefined;
  const [longer = '', exponent = ''] = value.toExponential(15).split('e');
  if (!longer.endsWith('5')) return undefined;
  if (!isExactly(value, BigInt(longer.replace(/[-.]/g, '')), Number(exponent) - 15)) return undefined;
  const truncated = longer.slice(0, -1);
  return Number(truncated.at(-1)) % 2 === 0 ? `${truncated}e${exponent}` : value.toExponential(14);
}

/** The 15-significant-digit form as `d.dddddddddddddde±x`. */
export function decimalForm(value: number): string {
  return tieForm(value) ?? value.toExponential(14);
}

/**
 * The double nearest the 15-digit form: its toPrecision(15) gives that form back. (toPrecision gives the
 * same digits as toExponential, faster.)
 */
function formValue(value: number): number {
  return Number(tieForm(value) ?? value.toPrecision(15)) + 0;
}

export function clampPlaces(places: number): number {
  return Math.min(Math.max(places, -PLACES_LIMIT), PLACES_LIMIT);
}

/**
 * A decimal rounded at `places` decimal places (negative: tens, hundreds…) by `rounding`, on its 15-digit
 * form. The form is shifted by the places in its text, where the shift is exact; a double holding the
 * shifted form has exactly its digits, so Math.trunc and friends see the decimal digits.
 */
export function roundDecimalAt(value: number, places: number, rounding: Rounding): number {
  if (rounding === 'round') {
    const quick = roundedQuickly(value, places);
    if (quick !== undefined) return quick;
  }
  const at = clampPlaces(places);
  const form = formValue(value);
  if (rounding === 'round' && at >= 0) return roundDecimal(form, at);
  // Whole numbers are doubles, so the double nearest the form lies between the same whole numbers as it.
  if (at === 0) return Math[rounding](form) + 0;
  const [mantissa = '', exponent = ''] = form.toExponential(14).split('e');
  // Its last digit is already at or left of the rounding place: nothing to cut.
  if (Number(exponent) - 14 + at >= 0) return form;
  const shifted = Number(`${mantissa}e${Number(exponent) + at}`);
  const whole = rounding === 'round' ? roundDecimal(shifted, 0) : Math[rounding](shifted);
  // Shortest digits of a whole number of at most 15 significant digits are those digits exactly.
  const [wholeMantissa = '', wholeExponent = ''] = whole.toExponential().split('e');
  return Number(`${wholeMantissa}e${Number(wholeExponent) - at}`) + 0;
}

const POWERS_OF_TEN = Array.from({ length: 16 }, (_, i) => 10 ** i);

/**
 * Rounding half away from zero without going through text, when that provably gives the same result:
 * below 10^(14 − places) the 15-digit form has a digit beyond the rounding place and lies within 0.05 of
 * a unit of that place from the value, so unless the value is within 0.1 unit of a tie, both round the
 * same way; and k / 10^places is the double nearest the decimal result, as parsing its text is. This is
 * the common case, and it is what makes rounding every group of an aggregate affordable on SQLite.
 */
function roundedQuickly(value: number, places: number): number | undefined {
  if (!Number.isInteger(places) || places < 0 || places > 14) return undefined;
  const scale = POWERS_OF_TEN[places]!;
  const magnitude = Math.abs(value);
  if (!(magnitude < POWERS_OF_TEN[14 - places]!)) return undefined;
  const shifted = magnitude * scale;
  const fraction = shifted - Math.floor(shifted);
  if (Math.abs(fraction - 0.5) <= 0.1) return undefined;
  const whole = Math.floor(shifted + 0.5);
  return (value < 0 ? -whole : whole) / scale + 0;
}

/** Half away from zero at `digits` places, on the value's 15-significant-digit decimal form, as SQL does. */
function roundDecimal(value: number, digits: number): number {
  if (!Number.isFinite(value)) return value;
  const text = Math.abs(value).toPrecision(15);
  const [mantissa, exponent] = text.split('e') as [string, string | undefined];
  const [whole, fraction = ''] = mantissa.split('.') as [string, string | undefined];
  let digitsText = whole + fraction;
  let point = whole.length + Number(exponent ?? 0);
  if (point < 0) {
    digitsText = '0'.repeat(-point) + digitsText;
    point = 0;
  }
  const keep = point + digits;
  if (keep < 0) return 0;
  let kept = digitsText.slice(0, keep).padEnd(keep, '0');
  if ((digitsText[keep] ?? '0') >= '5') {
    // Add one unit in the last kept place.
    const incremented = (BigInt(kept || '0') + 1n).toString().padStart(kept.length, '0');
    if (incremented.length > kept.length) point++;
    kept = incremented;
  }
  const result = Number(`${kept.slice(0, point) || '0'}.${kept.slice(point) || '0'}`);
  return value < 0 && result !== 0 ? -result : result;
}

const ORDER = new DataView(new ArrayBuffer(8));
const SIGN = 1n << 63n;
const ALL = (1n << 64n) - 1n;

/** A key that orders doubles as numbers (without NaN): the bits, with negatives flipped. */
function orderKey(value: number): bigint {
  ORDER.setFloat64(0, value);
  const bits = ORDER.getBigUint64(0);
  return bits & SIGN ? ~bits & ALL : bits | SIGN;
}

function fromOrderKey(key: bigint): number {
  ORDER.setBigUint64(0, key & SIGN ? key & ~SIGN & ALL : ~key & ALL);
  return ORDER.getFloat64(0);
}

/**
 * The smallest double whose rounding half away from zero at `places` is at least `target` (more than it
 * when `strict`): -Infinity when every double's is, Infinity when none is. Rounding never decreases as a
 * value grows, so a comparison of a rounded figure with a constant is a comparison of the figure itself
 * with this threshold — exactly, ties included — and SQLite can compare sums without calling the
 * rounding function once per group.
 */
export function roundingThreshold(target: number, places: number, strict: boolean): number {
  const passes = (value: number) => {
    const rounded = roundDecimalAt(value, places, 'round');
    return strict ? rounded > target : rounded >= target;
  };
  if (passes(-Number.MAX_VALUE)) return -Infinity;
  if (!passes(Number.MAX_VALUE)) return Infinity;
  let low = orderKey(-Number.MAX_VALUE);
  let high = orderKey(Number.MAX_VALUE);
  // Invariant: low fails, high passes.
  while (high - low > 1n) {
    const middle = (low + high) / 2n;
    if (passes(fromOrderKey(middle))) high = middle;
    else low = middle;
  }
  return fromOrderKey(high) + 0;
}
