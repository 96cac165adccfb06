/**
 * The time a run lives by: its "now" when it starts and when its waits are due. Injected so that a test
 * can move time forward (two days of waiting in a millisecond) and production uses the system clock.
 * Leases between processes use the system clock always: they are about processes, not about the campaign.
 */
export interface Clock {
  /** Epoch milliseconds. */
  now(): number;
}

export const systemClock: Clock = { now: () => Date.now() };

/** A clock that only moves when told to: for tests of waits and schedules. */
export class ManualClock implements Clock {
  private current: number;

  constructor(start: number) {
    this.current = start;
  }

  now(): number {
    return this.current;
  }

  advance(ms: number): void {
    this.current += ms;
  }

  set(ms: number): void {
    this.current = ms;
  }
}
