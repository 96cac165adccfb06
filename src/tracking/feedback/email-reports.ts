import { UserError } from '../../errors.ts';
import { addressVerdict, enhancedStatus } from '../../channels/smtp-status.ts';
import { countIgnored, ledgerId, providerTime, type Feedback, type FeedbackReading } from './feedback.ts';
import { fieldBlocks, findPart, parseFields, parseMime, type MimePart } from './mime-parts.ts';

/**
 * Reports mail systems send back about a message, read into feedback:
 * - delivery status notifications (RFC 3464, `multipart/report; report-type=delivery-status`): a `failed`
 *   recipient is a bounce, hard when its status says the address does not exist (smtp-status.ts); a
 *   `delivered`, `relayed` or `expanded` one a delivery receipt; a `delayed` one changes nothing yet;
 * - abuse reports (ARF, RFC 5965, `report-type=feedback-report`): a complaint, unless its feedback type is
 *   `not-spam` or `auth-failure`, which say nothing against the recipient's wish to get the mail.
 * The message reported on is found by the Message-ID of the returned original (`<ledger id@domain>`), or
 * by the Original-Envelope-Id the SMTP provider sends with every message (RFC 3461).
 */

/** Media types of the original message (or its header section) a report returns. */
const ORIGINAL_TYPES = new Set([
  'message/rfc822',
  'message/global',
  'text/rfc822-headers',
  'message/global-headers',
]);
const STATUS_TYPES = new Set(['message/delivery-status', 'message/global-delivery-status']);
const DELIVERED_ACTIONS = new Set(['delivered', 'relayed', 'expanded']);
/** ARF feedback types that are not a complaint about the mail received. */
const NOT_COMPLAINTS = new Set(['not-spam', 'auth-failure']);

/** A report Baton cannot read: a 400 for a webhook, a refusal for `baton feedback`. */
export class ReportFormatError extends UserError {
  constructor(message: string) {
    super(message, { status: 400 });
    this.name = 'ReportFormatError';
  }
}

/** `type; value` fields (Final-Recipient: rfc822; a@b, Diagnostic-Code: smtp; 550 …) → the value. */
function typedValue(field: string | undefined): string | undefined {
  if (field === undefined) return undefined;
  const semicolon = field.indexOf(';');
  return (semicolon < 0 ? field : field.slice(semicolon + 1)).trim();
}

/** The ledger id a report names: the returned Message-ID's local part, else the envelope id. */
function reportedMessage(report: MimePart, envelopeId: string | undefined): string | undefined {
  const original = findPart(report, (part) => ORIGINAL_TYPES.has(part.type));
  const headerSection = original?.body.split(/\r?\n\r?\n/, 1)[0];
  const messageIdField =
    headerSection === undefined ? undefined : parseFields(headerSection).get('message-id');
  const local = /<?([^@<>\s]+)@/.exec(messageIdField ?? '')?.[1];
  return ledgerId(local) ?? ledgerId(envelopeId);
}

function deliveryStatus(report: MimePart, reading: FeedbackReading): void {
  const statusPart = findPart(report, (part) => STATUS_TYPES.has(part.type));
  if (!statusPart) {
    throw new ReportFormatError(
      'The delivery status notification has no message/delivery-status part (RFC 3464): nothing says what happened.',
    );
  }
  const blocks = fieldBlocks(statusPart.body);
  const perMessage = blocks.find((block) => !block.has('action')) ?? new Map<string, string>();
  const recipients = blocks.filter((block) => block.has('action'));
  if (recipients.length === 0) {
    throw new ReportFormatError('The delivery status notification names no recipient with an Action field.');
  }
  const messageId = reportedMessage(report, perMessage.get('original-envelope-id'));
  for (const block of recipients) {
    const action = block.get('action')!.toLowerCase();
    if (!messageId) {
      countIgnored(reading, 'unidentified');
      continue;
    }
    const recipient = typedValue(block.get('final-recipient') ?? block.get('original-recipient')) ?? '';
    const at = providerTime(block.get('last-attempt-date') ?? perMessage.get('arrival-date'));
    const key = `dsn:${messageId}:${recipient.toLowerCase()}:${action}`;
    const status = block.get('status')?.trim();
    const diagnostic = typedValue(block.get('diagnostic-code'));
    if (action === 'failed') {
      const code = enhancedStatus(status ?? '');
      // A permanent refusal of the address quarantines it; anything else failed this message only.
      const hard = code?.klass === 5 && addressVerdict(code.subject, code.detail) === 'hard';
      const reason = diagnostic ?? (status ? `status ${status}` : 'failed');
      reading.items.push({ kind: 'bounce', messageId, key, bounce: hard ? 'hard' : 'soft', reason, at });
    } else if (DELIVERED_ACTIONS.has(action)) {
      reading.items.push({ kind: 'delivered', messageId, key, reason: null, at });
    } else {
      countIgnored(reading, action);
    }
  }
}

function feedbackReport(report: MimePart, reading: FeedbackReading): void {
  const part = findPart(report, (p) => p.type === 'message/feedback-report');
  if (!part) {
    throw new ReportFormatError('The abuse report has no message/feedback-report part (RFC 5965).');
  }
  const fields = parseFields(part.body);
  const type = fields.get('feedback-type')?.toLowerCase();
  if (!type) throw new ReportFormatError('The abuse report has no Feedback-Type field (RFC 5965 §3.1).');
  if (NOT_COMPLAINTS.has(type)) return countIgnored(reading, type);
  const messageId = reportedMessage(report, undefined);
  if (!messageId) return countIgnored(reading, 'unidentified');
  const complaint: Feedback = {
    kind: 'complaint',
    messageId,
    key: `arf:${messageId}:${type}`,
    reason: type,
    at: providerTime(fields.get('arrival-date') ?? fields.get('received-date')),
  };
  reading.items.push(complaint);
}

/**
 * The feedback in an email; undefined when it is no report (ordinary mail reaching the bounce mailbox or
 * the dev outbox).
 */
export function readEmailReport(raw: string | Buffer): FeedbackReading | undefined {
  const report = findPart(parseMime(raw), (part) => part.type === 'multipart/report');
  if (!report) return undefined;
  const reading: FeedbackReading = { items: [], ignored: {} };
  const reportType = report.params['report-type']?.toLowerCase();
  if (reportType === 'delivery-status') deliveryStatus(report, reading);
  else if (reportType === 'feedback-report') feedbackReport(report, reading);
  else countIgnored(reading, `report-type ${reportType ?? 'missing'}`);
  return reading;
}

/**
 * The feedback in a mail that reached a bounce mailbox (the dev outbox, a POP3 mailbox): undefined for mail
 * that is no report, and for a report Baton cannot read — kept or discarded like any other mail there.
 */
export function readMailboxReport(raw: string | Buffer): FeedbackReading | undefined {
  try {
    return readEmailReport(raw);
  } catch (error) {
    if (error instanceof ReportFormatError) return undefined;
    throw error;
  }
}
