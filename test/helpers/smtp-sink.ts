import { buffer } from 'node:stream/consumers';
import type { AddressInfo } from 'node:net';
import { simpleParser, type ParsedMail } from 'mailparser';
import { SMTPServer, type SMTPServerSession } from 'smtp-server';

/**
 * A real SMTP server for tests, whose faults are chosen by the recipient's local part, so one test can
 * check message by message how a sender reacts:
 *
 * - `temp4xx-N-…`  451 4.3.0 the first N attempts, then accepted
 * - `perm550-…`    550 5.1.1 (the mailbox does not exist)
 * - `full552-…`    552 5.2.2 (mailbox full)
 * - `policy554-…`  554 5.7.1 (refused by policy)
 * - `drop-…`       the connection is destroyed in the middle of DATA the first time, accepted after
 * - `slow-…`       the reply to RCPT TO comes after `slowMs`
 *
 * Any other address is accepted. Every accepted message is recorded, parsed; attempts are counted per
 * recipient (one per RCPT TO).
 */
export interface SinkMessage {
  envelope: { from: string; to: string[] };
  /** The DSN parameters of MAIL FROM (RFC 3461), which the sink offers and smtp-server keeps. */
  dsn: { envid: string | null; ret: string | null } | undefined;
  /** The Message-ID header as sent, with its angle brackets. */
  messageId: string | undefined;
  subject: string | undefined;
  headers: ParsedMail['headers'];
  html: string | null;
  text: string | null;
  raw: string;
}

export interface SmtpSink {
  url: string;
  port: number;
  received(): SinkMessage[];
  /** How many messages were accepted for each recipient. */
  deliveries(): Map<string, number>;
  attempts(address: string): number;
  /** Connections accepted so far, and the most open at once. */
  connections(): { opened: number; maxOpen: number };
  close(): Promise<void>;
}

export interface SmtpSinkOptions {
  /** How long `slow-…` recipients wait for their RCPT reply (default 2 s). */
  slowMs?: number;
  /** Keep and parse every message (default); false only counts them, for tests of many thousands. */
  parse?: boolean;
}

function refusal(code: number, text: string): Error {
  return Object.assign(new Error(text), { responseCode: code });
}

export function startSmtpSink(options: SmtpSinkOptions = {}): Promise<SmtpSink> {
  const slowMs = options.slowMs ?? 2000;
  const received: SinkMessage[] = [];
  const attempts = new Map<string, number>();
  const dropped = new Set<string>();
  const delivered = new Map<string, number>();
  const open = new Set<string>();
  let opened = 0;
  let maxOpen = 0;

  const server: SMTPServer = new SMTPServer({
    logger: false,
    disabledCommands: ['STARTTLS', 'AUTH'],
    // Offers DSN (RFC 3461) as Postfix and most MTAs do; smtp-server hides it unless told.
    hideDSN: false,
    // Connections a test left open are cut soon after close() rather than after smtp-server's 30 s.
    closeTimeout: 500,
    onConnect(session, callback) {
      opened += 1;
      open.add(session.id);
      maxOpen = Math.max(maxOpen, open.size);
      callback();
    },
    onClose(session) {
      open.delete(session.id);
    },
    onRcptTo(address, _session, callback) {
      const recipient = address.address.toLowerCase();
      const attempt = (attempts.get(recipient) ?? 0) + 1;
      attempts.set(recipient, attempt);
      const local = recipient.split('@')[0] ?? '';
      const temporary = /^temp4xx-(\d+)-/.exec(local);
      if (temporary && attempt <= Number(temporary[1])) {
        return callback(refusal(451, '4.3.0 Temporary failure, try again later'));
      }
      if (local.startsWith('perm550-')) return callback(refusal(550, '5.1.1 No such user here'));
      if (local.startsWith('full552-')) return callback(refusal(552, '5.2.2 Mailbox full'));
      if (local.startsWith('policy554-')) return callback(refusal(554, '5.7.1 Message refused by policy'));
      if (local.startsWith('slow-')) return void setTimeout(() => callback(), slowMs);
      callback();
    },
    onData(stream, session, callback) {
      const to = session.envelope.rcptTo.map((r) => r.address.toLowerCase());
      const toDrop = to.find(
        (address) => address.split('@')[0]?.startsWith('drop-') && !dropped.has(address),
      );
      if (toDrop) {
        dropped.add(toDrop);
        stream.once('data', () => connectionOf(server, session)?._socket.destroy());
        stream.resume();
        return;
      }
      buffer(stream)
        .then(async (raw) => {
          for (const address of to) delivered.set(address, (delivered.get(address) ?? 0) + 1);
          if (options.parse === false)
            return callback(null, `queued as SINK${[...delivered.values()].length}`);
          const parsed = await simpleParser(raw);
          received.push({
            envelope: {
              from: session.envelope.mailFrom === false ? '' : session.envelope.mailFrom.address,
              to,
            },
            dsn: (session.envelope as { dsn?: { envid: string | null; ret: string | null } }).dsn,
            messageId: parsed.headers.get('message-id') as string | undefined,
            subject: parsed.subject,
            headers: parsed.headers,
            html: parsed.html || null,
            text: parsed.text ?? null,
            raw: raw.toString('utf8'),
          });
          callback(null, `queued as SINK${received.length}`);
        })
        .catch((error: Error) => callback(error));
    },
  });
  server.on('error', () => undefined);

  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.server.address() as AddressInfo).port;
      resolve({
        url: `smtp://127.0.0.1:${port}`,
        port,
        received: () => [...received],
        deliveries: () => new Map(delivered),
        attempts: (address) => attempts.get(address.toLowerCase()) ?? 0,
        connections: () => ({ opened, maxOpen }),
        close: () => new Promise<void>((done) => server.close(() => done())),
      });
    });
  });
}

function connectionOf(server: SMTPServer, session: SMTPServerSession) {
  return [...server.connections].find((connection) => connection.id === session.id);
}
