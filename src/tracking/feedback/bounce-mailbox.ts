import type { BatonConfig } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { readMailboxReport } from './email-reports.ts';
import { describePop3Url, Pop3Session, parsePop3Url, type Pop3Location } from './pop3-client.ts';
import { recordFeedbackBatch } from './recorder.ts';
import type { FeedbackReading } from './feedback.ts';

/**
 * A bounce mailbox read over POP3 (BOUNCE_MAILBOX_URL): every poll reads the waiting mail, records the
 * bounce and abuse reports (src/tracking/feedback/recorder.ts) and deletes what it has dealt with — the
 * mailbox is Baton's, so mail that is no report (an out-of-office reply) is deleted too. A report about a
 * message still being sent stays for the next poll; so does everything when recording fails, since the
 * session then ends without QUIT and the server deletes nothing. Servers lock a maildrop while a session
 * holds it, so two Baton processes polling the same mailbox take turns instead of reading mail twice.
 */
export interface MailboxPoll {
  /** Messages in the mailbox when the poll started. */
  waiting: number;
  read: number;
  /** Feedback written, and reports already recorded (read again after a failed poll). */
  recorded: number;
  duplicates: number;
  /** Reports about messages the ledger does not hold. */
  unknown: number;
  /** Mail deleted unread as reports: not a report, unreadable, or over the size limit. */
  notReports: number;
  /** Reports kept for the next poll: their message is still being sent. */
  kept: number;
}

export interface BounceMailboxOptions {
  url: string;
  /** How often the mailbox is read (default 60 s). */
  intervalMs?: number;
  /** Messages read per poll; the rest wait for the next (default 500). */
  maxMessages?: number;
  /** Mail larger than this is deleted unread (default 30 MB; reports return headers, not attachments). */
  maxBytes?: number;
  /** A CA the server's certificate is checked against, besides the system's (a private mail server). */
  ca?: string | Buffer;
  timeoutMs?: number;
  onPoll?: (poll: MailboxPoll) => void;
  onError?: (error: unknown) => void;
}

export const DEFAULT_MAILBOX_POLL_MS = 60_000;

export class BounceMailbox {
  private readonly location: Pop3Location;
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<MailboxPoll> | undefined;
  private stopped = false;

  constructor(
    private readonly database: Database,
    private readonly options: BounceMailboxOptions,
  ) {
    this.location = parsePop3Url(options.url);
  }

  start(): void {
    const tick = () => {
      this.timer = undefined;
      this.poll()
        .then((poll) => this.options.onPoll?.(poll))
        .catch((error: unknown) => this.options.onError?.(error))
        .finally(() => {
          if (!this.stopped)
            this.timer = setTimeout(tick, this.options.intervalMs ?? DEFAULT_MAILBOX_POLL_MS);
        });
    };
    tick();
  }

  /** Stops polling, after the poll under way (if any) ends. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.polling?.catch(() => undefined);
  }

  /** Reads the mailbox once; a poll already under way is joined rather than doubled. */
  poll(): Promise<MailboxPoll> {
    this.polling ??= this.readMailbox().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async readMailbox(): Promise<MailboxPoll> {
    const session = await Pop3Session.open(this.location, {
      timeoutMs: this.options.timeoutMs,
      ca: this.options.ca,
    });
    try {
      const listed = await session.list();
      const poll: MailboxPoll = {
        waiting: listed.length,
        read: 0,
        recorded: 0,
        duplicates: 0,
        unknown: 0,
        notReports: 0,
        kept: 0,
      };
      const reports: Array<{ number: number; reading: FeedbackReading }> = [];
      for (const { number, size } of listed.slice(0, this.options.maxMessages ?? 500)) {
        poll.read++;
        const reading =
          size > (this.options.maxBytes ?? 30 * 1024 * 1024)
            ? undefined
            : readMailboxReport(await session.retrieve(number));
        if (reading) reports.push({ number, reading });
        else {
          poll.notReports++;
          await session.delete(number);
        }
      }
      const outcomes = await recordFeedbackBatch(
        this.database,
        reports.map((r) => r.reading),
      );
      for (const [i, outcome] of outcomes.entries()) {
        poll.recorded += outcome.recorded;
        poll.duplicates += outcome.duplicates;
        poll.unknown += outcome.unknown;
        if (outcome.early > 0) poll.kept++;
        else await session.delete(reports[i]!.number);
      }
      await session.quit();
      return poll;
    } catch (error) {
      // Without QUIT the server deletes nothing: the mail is read again at the next poll.
      session.close();
      throw error;
    }
  }
}

/** What the mailbox logs through: the server's and the worker's pino loggers. */
interface MailboxLog {
  info(fields: object, message: string): void;
  error(fields: object, message: string): void;
}

/** Polls the configured bounce mailbox, if there is one, logging what each poll did. */
export function startBounceMailbox(
  database: Database,
  config: Pick<BatonConfig, 'bounceMailboxUrl' | 'bounceMailboxPollMs'>,
  log: MailboxLog,
): BounceMailbox | undefined {
  if (config.bounceMailboxUrl === undefined) return undefined;
  const mailbox = describePop3Url(config.bounceMailboxUrl);
  const reader = new BounceMailbox(database, {
    url: config.bounceMailboxUrl,
    intervalMs: config.bounceMailboxPollMs,
    onPoll: (poll) => {
      if (poll.read > 0) log.info({ mailbox, ...poll }, 'bounce mailbox read');
    },
    onError: (error) => log.error({ mailbox, error }, 'reading the bounce mailbox failed'),
  });
  reader.start();
  return reader;
}
