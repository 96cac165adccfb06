/**
 * Tracking events between the thread answering requests and the event-write worker. The request thread
 * records only what the request said — the message id from the token, the kind, the link, the time, the
 * user agent and what it betrays — in columns (`PendingEvents`), not an object per event: events wait
 * up to a flush interval, long enough for the garbage collector to move objects to the old generation,
 * and at tens of thousands of events a second that collection cost more than everything else the events
 * needed on that thread (measured with bench/tracking). The worker looks up the messages, assigns ids,
 * judges the timing of opens, and writes (event-store.ts).
 *
 * A batch crosses as columns too: typed arrays, and each user agent or reason once.
 */
export const EVENT_KINDS = ['open', 'click', 'unsubscribe'] as const;
export type TrackedEventKind = (typeof EVENT_KINDS)[number];

export interface EventBatch {
  count: number;
  messageIds: string[];
  /** Per event, its index in EVENT_KINDS. */
  kinds: Uint8Array;
  /** Per event, the clicked link's index, or -1. */
  links: Int32Array;
  /** Per event, its time in epoch milliseconds. */
  at: Float64Array;
  /** The batch's distinct user agents and machine reasons, which `agents` and `reasons` point into. */
  strings: string[];
  /** Per event, its user agent, or -1. */
  agents: Int32Array;
  /** Per event, why the request alone marks it as a machine's, or -1. */
  reasons: Int32Array;
}

/** Events waiting for their batch, in columns; appended to, then cut into batches. */
export class PendingEvents {
  private messageIds: string[] = [];
  private kinds: number[] = [];
  private links: number[] = [];
  private at: number[] = [];
  private agents: Array<string | null> = [];
  private reasons: Array<string | null> = [];

  get length(): number {
    return this.messageIds.length;
  }

  push(
    messageId: string,
    kind: TrackedEventKind,
    link: number | null,
    atMs: number,
    agent: string | null,
    reason: string | null,
  ): void {
    this.messageIds.push(messageId);
    this.kinds.push(EVENT_KINDS.indexOf(kind));
    this.links.push(link ?? -1);
    this.at.push(atMs);
    this.agents.push(agent);
    this.reasons.push(reason);
  }

  /** Events `start` to `end` as a batch. */
  batch(start: number, end: number): EventBatch {
    const count = end - start;
    const strings: string[] = [];
    const known = new Map<string, number>();
    const ref = (value: string | null) => {
      if (value === null) return -1;
      let index = known.get(value);
      if (index === undefined) {
        index = strings.push(value) - 1;
        known.set(value, index);
      }
      return index;
    };
    const batch: EventBatch = {
      count,
      messageIds: this.messageIds.slice(start, end),
      kinds: Uint8Array.from(this.kinds.slice(start, end)),
      links: Int32Array.from(this.links.slice(start, end)),
      at: Float64Array.from(this.at.slice(start, end)),
      strings,
      agents: new Int32Array(count),
      reasons: new Int32Array(count),
    };
    for (let i = 0; i < count; i++) {
      batch.agents[i] = ref(this.agents[start + i]!);
      batch.reasons[i] = ref(this.reasons[start + i]!);
    }
    return batch;
  }

  /** Events `start` onwards, put back before `later` ones (a batch the database refused). */
  rest(start: number, later: PendingEvents): PendingEvents {
    const kept = new PendingEvents();
    kept.messageIds = [...this.messageIds.slice(start), ...later.messageIds];
    kept.kinds = [...this.kinds.slice(start), ...later.kinds];
    kept.links = [...this.links.slice(start), ...later.links];
    kept.at = [...this.at.slice(start), ...later.at];
    kept.agents = [...this.agents.slice(start), ...later.agents];
    kept.reasons = [...this.reasons.slice(start), ...later.reasons];
    return kept;
  }
}

/** The memory of the batch's typed arrays, handed over to the worker with it (no copy). */
export function batchTransferList(batch: EventBatch): ArrayBuffer[] {
  return [batch.kinds, batch.links, batch.at, batch.agents, batch.reasons].map(
    (column) => column.buffer as ArrayBuffer,
  );
}

/** A string column's value for event `i`. */
export function batchString(batch: EventBatch, column: Int32Array, i: number): string | null {
  const index = column[i]!;
  return index < 0 ? null : batch.strings[index]!;
}
