/**
 * Provider feedback, whatever its source (a bounce report by email, an SMS delivery receipt), in the one
 * shape src/tracking/feedback/recorder.ts writes to the ledger, the events and the quarantine.
 */
export type FeedbackKind = 'delivered' | 'bounce' | 'complaint';

export interface Feedback {
  kind: FeedbackKind;
  /** The ledger's id of the message the provider reports on. */
  messageId: string;
  /**
   * Names this report among all of the provider's: the same report received twice (a webhook retried, a
   * bounce mailbox read again) has the same key, and is recorded once.
   */
  key: string;
  /** A bounce's kind: `hard` (the address does not exist) quarantines the address, `soft` does not. */
  bounce?: 'hard' | 'soft';
  /** The provider's words (a DSN's diagnostic, an SMS error code, a complaint's feedback type). */
  reason: string | null;
  /** When the provider says it happened; when it is recorded if it does not say. */
  at?: Date;
}

/** What a provider's report held: feedback to record, and what was read but has nothing to record. */
export interface FeedbackReading {
  items: Feedback[];
  /** Statuses that change nothing (an SMS `sending`, a DSN `delayed`), by status. */
  ignored: Record<string, number>;
}

/** Ledger message ids are UUIDs (src/delivery/message-id.ts); anything else cannot name one of ours. */
const LEDGER_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function ledgerId(text: string | undefined | null): string | undefined {
  const trimmed = text?.trim().toLowerCase();
  return trimmed && LEDGER_ID.test(trimmed) ? trimmed : undefined;
}

/** A provider's timestamp, if it is one. */
export function providerTime(text: string | undefined | null): Date | undefined {
  if (!text) return undefined;
  const at = new Date(text);
  return Number.isNaN(at.getTime()) ? undefined : at;
}

export function countIgnored(reading: FeedbackReading, status: string): void {
  reading.ignored[status] = (reading.ignored[status] ?? 0) + 1;
}
