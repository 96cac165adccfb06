import { buffer } from 'node:stream/consumers';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer } from 'smtp-server';
import type { Database } from '../../db/database.ts';
import { DEFAULT_OUTBOX_PORT } from '../../config.ts';
import { readMailboxReport } from '../../tracking/feedback/email-reports.ts';
import { recordFeedback } from '../../tracking/feedback/recorder.ts';
import { recordOutboxMessage } from './store.ts';

/**
 * The dev outbox (DESIGN.md "Runtime modes"): a real SMTP server on the loopback interface that keeps every
 * email it receives in the outbox table instead of delivering it, so embedded mode sends for real without
 * an external mail service. No TLS and no authentication: it only listens locally, and any credentials a
 * client offers are accepted so an SMTP_URL with a user still works against it.
 */
export interface DevOutbox {
  port: number;
  close(): Promise<void>;
}

/** Emails larger than this are refused with 552, as a real server would. */
export const OUTBOX_MAX_BYTES = 25 * 1024 * 1024;

/** The header lines as sent (unfolded), a name seen twice becoming a list. */
export function headerRecord(parsed: ParsedMail): Record<string, string | string[]> {
  const headers: Record<string, string | string[]> = {};
  for (const { line } of parsed.headerLines) {
    const colon = line.indexOf(':');
    if (colon < 0) continue;
    const name = line.slice(0, colon).trim();
    const value = line
      .slice(colon + 1)
      .replace(/\r?\n[ \t]+/g, ' ')
      .trim();
    const seen = headers[name];
    headers[name] = seen === undefined ? value : [...(Array.isArray(seen) ? seen : [seen]), value];
  }
  return headers;
}

/**
 * A bounce or abuse report reaching the outbox is recorded as provider feedback (src/tracking/feedback/),
 * as one reaching a production bounce mailbox would be: the dev outbox doubles as the demo's bounce
 * mailbox. Recorded before the report is stored, so a failure leaves nothing stored and the retry whole.
 */
async function recordReport(database: Database, raw: Buffer): Promise<void> {
  const reading = readMailboxReport(raw);
  if (!reading) return;
  const outcome = await recordFeedback(database, reading);
  if (outcome.early > 0) {
    throw new Error('the report is about a message whose send is still being recorded');
  }
}

async function store(database: Database, raw: Buffer, envelope: { from: string; to: string[] }) {
  await recordReport(database, raw);
  const parsed = await simpleParser(raw);
  const messageId = parsed.messageId?.replace(/^<|>$/g, '') ?? null;
  for (const recipient of envelope.to) {
    await recordOutboxMessage(database, {
      channel: 'email',
      messageId,
      recipient,
      sender: parsed.from?.text ?? (envelope.from || null),
      subject: parsed.subject ?? null,
      text: parsed.text ?? null,
      html: parsed.html === false ? null : parsed.html,
      headers: headerRecord(parsed),
      raw: raw.toString('utf8'),
    });
  }
}

export function startDevOutbox(options: {
  database: Database;
  port?: number;
  host?: string;
}): Promise<DevOutbox> {
  const server = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS'],
    authOptional: true,
    allowInsecureAuth: true,
    size: OUTBOX_MAX_BYTES,
    // Stopping Baton should not wait long for idle pooled connections to leave.
    closeTimeout: 2000,
    banner: 'Baton dev outbox: nothing received here leaves this machine',
    onAuth: (_auth, _session, callback) => callback(null, { user: 'outbox' }),
    onData: (stream, session, callback) => {
      buffer(stream)
        .then(async (raw) => {
          if (stream.sizeExceeded) {
            const error = new Error(`Message exceeds the outbox's limit of ${OUTBOX_MAX_BYTES} bytes`);
            return callback(Object.assign(error, { responseCode: 552 }));
          }
          const from = session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address;
          await store(options.database, raw, { from, to: session.envelope.rcptTo.map((r) => r.address) });
          callback(null, 'Stored in the Baton dev outbox');
        })
        .catch((error: unknown) => {
          // The client is told to try again (451) rather than losing the message silently.
          callback(
            Object.assign(new Error(`Outbox could not store it: ${String(error)}`), { responseCode: 451 }),
          );
        });
    },
  });
  return new Promise((resolve, reject) => {
    // A port already taken rejects the start; later errors (a client resetting its connection) must not
    // crash the process hosting the outbox.
    let listening = false;
    server.on('error', (error) => {
      if (!listening) reject(error);
    });
    server.listen(options.port ?? DEFAULT_OUTBOX_PORT, options.host ?? '127.0.0.1', () => {
      listening = true;
      resolve({
        port: (server.server.address() as AddressInfo).port,
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}
