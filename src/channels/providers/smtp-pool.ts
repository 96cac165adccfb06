import SMTPConnection from 'nodemailer/lib/smtp-connection/index.js';

/**
 * A pool of SMTP connections built on nodemailer's SMTPConnection, for messages that are already
 * written (raw MIME). nodemailer's own pool wraps every message, even a raw one, in its Mail and MimeNode
 * machinery (random ids, stream pipelines, many small socket writes), which halved the messages a second
 * a process could send; a connection handed the message as one Buffer does none of that.
 *
 * Connections are opened when sends need them, up to `maxConnections`, and counted until they have
 * really ended, so the server never sees more at once. Each carries at most `maxMessages` messages and is
 * then ended with QUIT. A refused message (a 4xx/5xx reply to MAIL, RCPT or DATA) leaves the session
 * usable once RSET has cleared it; any other failure (timeout, dropped connection) discards the
 * connection, and a later send opens a new one.
 */
export interface SmtpPoolOptions {
  host: string;
  port: number;
  /** TLS from the start (smtps); otherwise STARTTLS when the server offers it. */
  secure: boolean;
  auth: { user: string; pass: string } | undefined;
  maxConnections: number;
  maxMessages: number;
  connectionTimeoutMs: number;
  greetingTimeoutMs: number;
  socketTimeoutMs: number;
}

export interface SmtpEnvelope {
  from: string;
  to: string[];
  /**
   * DSN parameters (RFC 3461), sent to servers that offer the extension: `envid` comes back in a bounce
   * report's Original-Envelope-Id, and `ret: 'HDRS'` asks reports to return the headers, not the message.
   */
  dsn?: { envid: string; ret: 'HDRS' };
}

/** An idle connection is ended after this long, rather than held open on a server that limits them. */
const IDLE_TIMEOUT_MS = 30_000;

interface PooledConnection {
  connection: SMTPConnection;
  /** Messages handed to it, refused ones included. */
  sent: number;
  ended: boolean;
  /** The first error the connection reported: what ended it. */
  failure: Error | undefined;
  /**
   * Settles the operation in flight (connect, login, send, RSET). SMTPConnection reports some failures
   * only as an 'error' or 'end' event, never through the operation's callback.
   */
  interrupt: ((error: Error) => void) | undefined;
  idleTimer: NodeJS.Timeout | undefined;
}

interface Waiter {
  resolve(pooled: PooledConnection): void;
  reject(error: Error): void;
}

function closedPoolError(): Error {
  return new Error(
    'The SMTP provider was closed while this message waited for a connection: it was not sent, and can be sent again.',
  );
}

function closedConnectionError(): Error {
  return Object.assign(new Error('The SMTP server closed the connection'), { code: 'ECONNECTION' });
}

/** A refusal of this message by a server that keeps the session open: RSET makes it usable again. */
function isRefusal(error: Error & { code?: string; responseCode?: number }): boolean {
  // 421 is the server closing the session, whatever command it answers.
  return (error.code === 'EENVELOPE' || error.code === 'EMESSAGE') && error.responseCode !== 421;
}

export class SmtpPool {
  private readonly idle: PooledConnection[] = [];
  private readonly waiters: Waiter[] = [];
  /** Connections opening, open or closing: everything the server may still count. */
  private opened = 0;
  private closed = false;

  constructor(private readonly options: SmtpPoolOptions) {}

  /** Sends one message; resolves with the server's final reply, rejects with SMTPConnection's error. */
  async send(envelope: SmtpEnvelope, raw: Buffer): Promise<string> {
    for (let attempt = 1; ; attempt++) {
      const pooled = await this.acquire();
      const reused = pooled.sent > 0;
      pooled.sent += 1;
      try {
        const info = await this.run<SMTPConnection.SentMessageInfo>(pooled, (done) =>
          pooled.connection.send(envelope, raw, done),
        );
        this.release(pooled);
        return info.response;
      } catch (error) {
        // A server may end an idle session just as a message is given to it. Until it has answered DATA
        // with 354 not a byte of the message has left, so it goes out on another connection rather than
        // coming back as a failure.
        if (
          attempt === 1 &&
          reused &&
          pooled.ended &&
          !/^3/.test(String(pooled.connection.lastServerResponse))
        ) {
          const code = (error as { code?: string }).code;
          if (code === 'ECONNECTION' || code === 'ESOCKET') continue;
        }
        this.recover(pooled, error as Error);
        throw error;
      }
    }
  }

  /** Ends idle connections, and the others once their message is answered; waiting sends fail. */
  close(): Promise<void> {
    if (this.closed) return Promise.resolve();
    this.closed = true;
    for (const waiter of this.waiters.splice(0)) waiter.reject(closedPoolError());
    for (const pooled of this.idle.splice(0)) {
      clearTimeout(pooled.idleTimer);
      pooled.connection.quit();
    }
    return Promise.resolve();
  }

  private acquire(): Promise<PooledConnection> {
    if (this.closed) return Promise.reject(closedPoolError());
    // The most recently used first: the others stay idle long enough to be closed when fewer will do.
    const idle = this.idle.pop();
    if (idle) {
      clearTimeout(idle.idleTimer);
      return Promise.resolve(idle);
    }
    if (this.opened < this.options.maxConnections) return this.open();
    return new Promise((resolve, reject) => this.waiters.push({ resolve, reject }));
  }

  private async open(): Promise<PooledConnection> {
    this.opened += 1;
    const { options } = this;
    const connection = new SMTPConnection({
      host: options.host,
      port: options.port,
      secure: options.secure,
      connectionTimeout: options.connectionTimeoutMs,
      greetingTimeout: options.greetingTimeoutMs,
      socketTimeout: options.socketTimeoutMs,
      // Explicit, so that the credentials of AUTH never reach a log.
      logger: false,
      debug: false,
    });
    const pooled: PooledConnection = {
      connection,
      sent: 0,
      ended: false,
      failure: undefined,
      interrupt: undefined,
      idleTimer: undefined,
    };
    // Listened to for the connection's whole life: an 'error' event without a listener would throw.
    connection.on('error', (error: Error) => {
      pooled.failure ??= error;
      pooled.interrupt?.(error);
    });
    connection.once('end', () => this.ended(pooled));
    try {
      await this.run<void>(pooled, (done) => connection.connect(done));
      // As nodemailer's transports do: a server that offers no AUTH (a relay that trusts the network) is
      // used without it.
      if (options.auth && connection.allowsAuth) {
        const auth = options.auth;
        await this.run<boolean>(pooled, (done) => connection.login(auth, done));
      }
    } catch (error) {
      connection.close();
      throw error;
    }
    return pooled;
  }

  /** Runs one operation of the connection as a promise, settled by its callback or by the connection's end. */
  private run<T>(
    pooled: PooledConnection,
    operation: (done: (error?: Error | null, value?: T) => void) => void,
  ): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      let settled = false;
      const done = (error?: Error | null, value?: T) => {
        if (settled) return;
        settled = true;
        pooled.interrupt = undefined;
        if (error) reject(error);
        else resolve(value as T);
      };
      if (pooled.ended) return done(pooled.failure ?? closedConnectionError());
      pooled.interrupt = done;
      operation(done);
    });
  }

  private release(pooled: PooledConnection): void {
    if (pooled.ended) return;
    if (this.closed || pooled.sent >= this.options.maxMessages) {
      pooled.connection.quit();
      return;
    }
    const waiter = this.waiters.shift();
    if (waiter) {
      waiter.resolve(pooled);
      return;
    }
    pooled.idleTimer = setTimeout(() => {
      // Out of the idle list first: it must not be handed a message while its QUIT is answered.
      this.removeIdle(pooled);
      pooled.connection.quit();
    }, IDLE_TIMEOUT_MS);
    // An idle connection is no reason for the process to stay up.
    pooled.idleTimer.unref();
    this.idle.push(pooled);
  }

  /** After a failed send: the session is cleared for the next message, or the connection ended. */
  private recover(pooled: PooledConnection, error: Error): void {
    if (pooled.ended) return;
    if (!isRefusal(error)) {
      pooled.connection.close();
      return;
    }
    this.run<boolean>(pooled, (done) => pooled.connection.reset(done)).then(
      () => this.release(pooled),
      () => pooled.connection.close(),
    );
  }

  /** The connection is gone, whatever ended it: its place goes to a send waiting for one. */
  private ended(pooled: PooledConnection): void {
    pooled.ended = true;
    clearTimeout(pooled.idleTimer);
    pooled.interrupt?.(pooled.failure ?? closedConnectionError());
    this.removeIdle(pooled);
    this.opened -= 1;
    while (!this.closed && this.waiters.length > 0 && this.opened < this.options.maxConnections) {
      const waiter = this.waiters.shift() as Waiter;
      this.open().then(
        (opened) => waiter.resolve(opened),
        (error: Error) => waiter.reject(error),
      );
    }
  }

  private removeIdle(pooled: PooledConnection): void {
    const index = this.idle.indexOf(pooled);
    if (index >= 0) this.idle.splice(index, 1);
  }
}
