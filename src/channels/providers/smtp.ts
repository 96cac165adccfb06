import { buffer } from 'node:stream/consumers';
import DKIM from 'nodemailer/lib/dkim/index.js';
import type { DkimSettings } from '../../config.ts';
import { UserError } from '../../errors.ts';
import { buildMime, MimeError, type BuiltMime } from '../render/mime.ts';
import { addressVerdict, enhancedStatus } from '../smtp-status.ts';
import type { Provider, SendResult } from '../types.ts';
import { SmtpPool } from './smtp-pool.ts';

/**
 * Email over SMTP on a pool of nodemailer connections (smtp-pool.ts): a few long-lived connections, each
 * carrying many messages, instead of one handshake per message. Messages are handed over already built
 * (buildMime): nodemailer's own composition, about a millisecond a message, was most of the CPU a send
 * takes. SMTP has no idempotency key, so a message whose outcome was lost (a connection dropped after
 * DATA) may have been delivered: `idempotent` is false.
 */
export interface SmtpProviderOptions {
  /** `smtp://user:pass@host:587` (STARTTLS when offered) or `smtps://…:465` (TLS from the start). */
  url: string;
  /** The name campaign documents use to pick it (default `smtp`). */
  name?: string;
  maxConnections?: number;
  maxMessages?: number;
  connectionTimeoutMs?: number;
  greetingTimeoutMs?: number;
  /** Silence after which a connection is given up (a server that stops answering mid-message). */
  socketTimeoutMs?: number;
  /** Signs every message (RFC 6376, rsa-sha256, relaxed/relaxed). */
  dkim?: DkimSettings;
  /**
   * The envelope sender (MAIL FROM, the Return-Path): where receiving servers send bounce reports. By
   * default the message's From address; a mailbox piped to Baton (docs/tracking.md) reads them.
   */
  bounceAddress?: string;
}

/** What nodemailer's SMTPConnection attaches to its errors. */
interface SmtpError extends Error {
  code?: string;
  responseCode?: number;
  response?: string;
  command?: string;
}

/** Where SMTP_URL points, for the settings view: never the credentials. */
export function describeSmtpUrl(url: string): string {
  const parsed = parseSmtpUrl(url);
  return `${parsed.secure ? 'smtps' : 'smtp'}://${parsed.host}:${parsed.port}${parsed.auth ? ' (with credentials)' : ''}`;
}

function parseSmtpUrl(url: string) {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The value itself is not repeated: it may hold a password.
    throw new UserError('SMTP_URL is not a valid URL; it should look like smtp://user:pass@host:587.');
  }
  if (parsed.protocol !== 'smtp:' && parsed.protocol !== 'smtps:') {
    throw new UserError('SMTP_URL must start with smtp:// (STARTTLS when offered) or smtps:// (TLS).');
  }
  if (!parsed.hostname) throw new UserError('SMTP_URL names no host (smtp://user:pass@host:587).');
  const secure = parsed.protocol === 'smtps:';
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : secure ? 465 : 587,
    secure,
    auth: parsed.username
      ? { user: decodeURIComponent(parsed.username), pass: decodeURIComponent(parsed.password) }
      : undefined,
  };
}

/** The queue id in a "250 2.0.0 Ok: queued as 4Bq…" style reply, the way most servers report it. */
function queueId(response: string | undefined): string | null {
  if (!response) return null;
  const match = /queued as\s+<?([\w.@-]+)>?/i.exec(response) ?? /\bid=<?([\w.@-]+)>?/i.exec(response);
  return match?.[1] ?? null;
}

/** How a 5xx reply bears on the recipient's address: its enhanced status code says most (smtp-status.ts). */
function bounceOf(error: SmtpError, code: number): 'hard' | 'soft' | null {
  // A refused sender says nothing about the recipient.
  if (error.command === 'MAIL FROM') return null;
  const enhanced = enhancedStatus((error.response ?? '').replace(/^\d{3}[ -]/, ''));
  if (enhanced) return addressVerdict(enhanced.subject, enhanced.detail);
  if (code === 550 || code === 551 || code === 553) return 'hard';
  if (code === 552) return 'soft';
  return null;
}

function classify(error: SmtpError): SendResult {
  const reason = (error.response ?? error.message).trim();
  // Refused credentials concern the account, not the message: retrying once SMTP_URL is fixed will work.
  if (error.code === 'EAUTH' || error.code === 'ENOAUTH') {
    return { status: 'transient', reason: `SMTP authentication failed: ${reason}` };
  }
  const code = error.responseCode;
  // 503 (bad sequence of commands) is a session problem; the same message goes through on a new one.
  if (code !== undefined && code >= 500 && code < 600 && code !== 503) {
    return { status: 'permanent', reason, bounce: bounceOf(error, code) };
  }
  if (code === undefined && (error.code === 'EENVELOPE' || error.code === 'EMESSAGE')) {
    // Refused by nodemailer before anything was sent: a malformed address or an oversized message.
    const badRecipient = error.message.startsWith('Invalid recipient');
    return { status: 'permanent', reason, bounce: badRecipient ? 'hard' : null };
  }
  // 4xx replies, timeouts, refused or dropped connections, TLS failures.
  return { status: 'transient', reason: error.code ? `${error.code}: ${reason}` : reason };
}

export function createSmtpProvider(options: SmtpProviderOptions): Provider<'email'> {
  const server = parseSmtpUrl(options.url);
  const pool = new SmtpPool({
    ...server,
    maxConnections: options.maxConnections ?? 5,
    maxMessages: options.maxMessages ?? 100,
    connectionTimeoutMs: options.connectionTimeoutMs ?? 30_000,
    greetingTimeoutMs: options.greetingTimeoutMs ?? 30_000,
    socketTimeoutMs: options.socketTimeoutMs ?? 120_000,
  });
  const signer =
    options.dkim &&
    new DKIM({
      domainName: options.dkim.domain,
      keySelector: options.dkim.selector,
      privateKey: options.dkim.privateKey,
    });
  return {
    name: options.name ?? 'smtp',
    channel: 'email',
    idempotent: false,
    async send(message) {
      let built: BuiltMime;
      try {
        built = buildMime(message);
      } catch (error) {
        if (!(error instanceof MimeError)) return classify(error as SmtpError);
        // As nodemailer's own refusals: a recipient that cannot be written is a hard bounce, anything
        // else (the sender, a header) is the message's fault and says nothing about the address.
        return { status: 'permanent', reason: error.message, bounce: error.header === 'To' ? 'hard' : null };
      }
      try {
        // Signed before a connection is taken, so that no connection waits on the signature and none is
        // handed a stream that could fail halfway through DATA.
        const raw = signer ? await buffer(signer.sign(built.raw)) : built.raw;
        // The ledger's id rides in the envelope too, for reports that do not return the Message-ID.
        const envelope = {
          from: options.bounceAddress ?? built.envelope.from,
          to: built.envelope.to,
          dsn: { envid: message.messageId, ret: 'HDRS' as const },
        };
        const response = await pool.send(envelope, raw);
        return { status: 'accepted', providerMessageId: queueId(response) ?? built.messageId };
      } catch (error) {
        return classify(error as SmtpError);
      }
    },
    close: () => pool.close(),
  };
}
