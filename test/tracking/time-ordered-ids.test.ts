import { describe, expect, it } from 'vitest';
import { TimeOrderedIds } from '../../src/tracking/time-ordered-ids.ts';

const UUID_V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const timeOf = (id: string) => parseInt(id.replaceAll('-', '').slice(0, 12), 16);

describe('TimeOrderedIds', () => {
  it('makes UUIDv7s that carry their millisecond and sort in the order they were made', () => {
    const ids = new TimeOrderedIds();
    const ms = Date.parse('2026-11-29T10:00:00.123Z');
    // Past the 4,096 a millisecond's counter holds: the random part is drawn again and the counter restarts.
    const made = [
      ...Array.from({ length: 5000 }, () => ids.next(ms)),
      ...Array.from({ length: 10 }, () => ids.next(ms + 1)),
    ];
    for (const id of made) expect(id).toMatch(UUID_V7);
    expect(new Set(made).size).toBe(made.length);
    expect(made.slice(0, 5000).every((id) => timeOf(id) === ms)).toBe(true);
    expect(made.slice(5000).every((id) => timeOf(id) === ms + 1)).toBe(true);
    // Within the counter's range, in order; each millisecond after the previous one.
    const first = made.slice(0, 4096);
    expect([...first].sort()).toEqual(first);
    expect(made[5000]! > made[4999]!).toBe(true);
  });

  it('gives two generators in the same millisecond different ids (their random parts differ)', () => {
    const ms = Date.now();
    const a = Array.from({ length: 100 }, () => new TimeOrderedIds().next(ms));
    expect(new Set(a).size).toBe(100);
  });
});
