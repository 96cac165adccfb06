import net from 'node:net';
import tls from 'node:tls';
import { UserError } from '../../errors.ts';

/**
 * The few POP3 commands (RFC 1939) a bounce mailbox needs — log in, list, retrieve, delete, quit — over
 * TLS (`pop3s://`, port 995) or plain TCP (`pop3://`, port 110, for a server on the same machine).
 * Deletions take effect only when the session ends with QUIT: a session cut short deletes nothing, so a
 * message is never lost between being read and being recorded.
 */
export interface Pop3Location {
  host: string;
  port: number;
  secure: boolean;
  user: string;
  password: string;
}

/** Where a bounce mailbox URL points, for logs and settings: never the credentials. */
export function describePop3Url(url: string): string {
  const { secure, host, port } = parsePop3Url(url);
  return `${secure ? 'pop3s' : 'pop3'}://${host}:${port}`;
}

export function parsePop3Url(url: string): Pop3Location {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    // The value is not repeated: it holds a password.
    throw new UserError('BOUNCE_MAILBOX_URL is not a valid URL; it should look like pop3s://user:pass@host.');
  }
  if (parsed.protocol !== 'pop3s:' && parsed.protocol !== 'pop3:') {
    throw new UserError(
      'BOUNCE_MAILBOX_URL must start with pop3s:// (TLS) or pop3:// (plain, local servers only).',
    );
  }
  if (!parsed.hostname || !parsed.username) {
    throw new UserError('BOUNCE_MAILBOX_URL needs a host and a user: pop3s://user:pass@host.');
  }
  const secure = parsed.protocol === 'pop3s:';
  return {
    host: parsed.hostname.replace(/^\[|\]$/g, ''),
    port: parsed.port ? Number(parsed.port) : secure ? 995 : 110,
    secure,
    user: decodeURIComponent(parsed.username),
    password: decodeURIComponent(parsed.password),
  };
}

export class Pop3Error extends Error {
  constructor(
    message: string,
    /** The server refused a command (`-ERR`), as opposed to a network failure. */
    readonly refused = false,
  ) {
    super(message);
    this.name = 'Pop3Error';
  }
}

interface Answer {
  /** The first line: `+OK …` or `-ERR …`. */
  status: string;
  /** A multi-line answer's lines after it. */
  body: Buffer;
}

interface Waiting {
  multiline: boolean;
  resolve: (answer: Answer) => void;
  reject: (error: Error) => void;
}

const CRLF = Buffer.from('\r\n');
const END_OF_BODY = Buffer.from('\r\n.\r\n');

export class Pop3Session {
  private buffer: Buffer = Buffer.alloc(0);
  private readonly waiting: Waiting[] = [];
  private failure: Error | undefined;

  private constructor(private readonly socket: net.Socket) {
    socket.on('data', (chunk: Buffer) => {
      this.buffer = Buffer.concat([this.buffer, chunk]);
      this.answer();
    });
    const fail = (error: Error) => {
      this.failure ??= error;
      for (const waiting of this.waiting.splice(0)) waiting.reject(this.failure);
    };
    socket.on('error', (error) => fail(new Pop3Error(`POP3 connection failed: ${error.message}`)));
    socket.on('close', () => fail(new Pop3Error('The POP3 server closed the connection')));
  }

  /** Connects and logs in (USER / PASS). */
  static async open(
    location: Pop3Location,
    options: { timeoutMs?: number; ca?: string | Buffer } = {},
  ): Promise<Pop3Session> {
    const timeoutMs = options.timeoutMs ?? 30_000;
    const socket = location.secure
      ? tls.connect({ host: location.host, port: location.port, servername: location.host, ca: options.ca })
      : net.connect({ host: location.host, port: location.port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error(`no answer within ${timeoutMs} ms`)));
    const session = new Pop3Session(socket);
    try {
      await session.expect(false);
      await session.command(`USER ${location.user}`);
      // The password is never part of an error: a refusal is reported without it.
      await session.command(`PASS ${location.password}`, false, 'PASS');
    } catch (error) {
      session.close();
      throw error;
    }
    return session;
  }

  /** The messages in the maildrop: number and size in bytes. */
  async list(): Promise<Array<{ number: number; size: number }>> {
    const { body } = await this.command('LIST', true);
    return body
      .toString('latin1')
      .split('\r\n')
      .filter(Boolean)
      .map((line) => {
        const [number, size] = line.split(' ').map(Number);
        return { number: number!, size: size! };
      });
  }

  /** A message as it was received, with the byte-stuffing of lines that start with a dot undone. */
  async retrieve(number: number): Promise<Buffer> {
    const { body } = await this.command(`RETR ${number}`, true);
    return body;
  }

  /** Marks a message for deletion when the session ends with QUIT. */
  async delete(number: number): Promise<void> {
    await this.command(`DELE ${number}`);
  }

  /** Ends the session: the server deletes the messages marked. */
  async quit(): Promise<void> {
    await this.command('QUIT');
    this.socket.end();
  }

  /** Drops the connection without QUIT: nothing marked is deleted. */
  close(): void {
    this.socket.destroy();
  }

  private command(line: string, multiline = false, shown = line) {
    if (this.failure) return Promise.reject(this.failure);
    const answer = this.expect(multiline, shown);
    this.socket.write(`${line}\r\n`);
    return answer;
  }

  private async expect(multiline: boolean, shown = 'greeting'): Promise<Answer> {
    const answer = await new Promise<Answer>((resolve, reject) => {
      this.waiting.push({ multiline, resolve, reject });
      this.answer();
    });
    if (!answer.status.startsWith('+OK')) {
      throw new Pop3Error(`The POP3 server refused ${shown.split(' ')[0]}: ${answer.status}`, true);
    }
    return answer;
  }

  /** Hands complete answers to the commands waiting for them, in order. */
  private answer(): void {
    while (this.waiting.length > 0) {
      const waiting = this.waiting[0]!;
      const lineEnd = this.buffer.indexOf(CRLF);
      if (lineEnd < 0) return;
      const status = this.buffer.subarray(0, lineEnd).toString('latin1');
      let body: Buffer = Buffer.alloc(0);
      let consumed = lineEnd + 2;
      if (waiting.multiline && status.startsWith('+OK')) {
        // The body ends at a line holding a single dot; an empty body is just that line.
        const rest = this.buffer.subarray(lineEnd);
        const end = rest.indexOf(END_OF_BODY);
        if (end < 0) return;
        body = unstuff(rest.subarray(2, end + 2));
        consumed = lineEnd + end + END_OF_BODY.length;
      }
      this.buffer = this.buffer.subarray(consumed);
      this.waiting.shift();
      waiting.resolve({ status, body });
    }
  }
}

/** RFC 1939 §3: a line of a multi-line answer that starts with "." was sent with one more. */
function unstuff(body: Buffer): Buffer {
  const text = body.toString('latin1');
  return Buffer.from(text.replace(/(^|\r\n)\./g, '$1'), 'latin1');
}
