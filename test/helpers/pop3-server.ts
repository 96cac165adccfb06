import net, { type AddressInfo } from 'node:net';
import tls from 'node:tls';

/**
 * A POP3 server (RFC 1939) for tests: one maildrop, USER/PASS, STAT, LIST, RETR (byte-stuffed), DELE,
 * RSET, NOOP and QUIT; deletions happen at QUIT only, and the maildrop is locked while a session holds
 * it, as real servers do. `dropNextRetrieve` cuts the connection at the next RETR.
 */
export interface Pop3Server {
  port: number;
  url(credentials?: { user?: string; password?: string }, scheme?: 'pop3' | 'pop3s'): string;
  /** The messages in the maildrop now. */
  messages(): string[];
  add(raw: string): void;
  dropNextRetrieve(): void;
  /** Sessions that logged in. */
  logins(): number;
  close(): Promise<void>;
}

export function startPop3Server(options: {
  user: string;
  password: string;
  tls?: { key: string; cert: string };
}): Promise<Pop3Server> {
  let maildrop: string[] = [];
  let locked = false;
  let drop = false;
  let logins = 0;
  const sockets = new Set<net.Socket>();

  const serve = (socket: net.Socket) => {
    sockets.add(socket);
    let user: string | undefined;
    let holdsLock = false;
    const marked = new Set<number>();
    let pending = '';
    const send = (line: string) => socket.write(`${line}\r\n`);
    const release = () => {
      if (holdsLock) locked = false;
      holdsLock = false;
    };
    socket.on('close', () => {
      release();
      sockets.delete(socket);
    });
    socket.on('error', () => undefined);
    send('+OK test POP3 server ready');
    socket.on('data', (chunk: Buffer) => {
      pending += chunk.toString('latin1');
      let end: number;
      while ((end = pending.indexOf('\r\n')) >= 0) {
        const line = pending.slice(0, end);
        pending = pending.slice(end + 2);
        const [verb = '', argument = ''] = [
          line.split(' ')[0]!.toUpperCase(),
          line.slice(line.indexOf(' ') + 1),
        ];
        const number = Number(argument);
        const exists =
          Number.isInteger(number) && number >= 1 && number <= maildrop.length && !marked.has(number);
        if (!holdsLock) {
          if (verb === 'USER') {
            user = argument;
            send('+OK');
          } else if (verb === 'PASS') {
            if (user !== options.user || argument !== options.password)
              send('-ERR [AUTH] invalid credentials');
            else if (locked) send('-ERR [IN-USE] maildrop already locked');
            else {
              locked = holdsLock = true;
              logins++;
              send('+OK maildrop locked and ready');
            }
          } else if (verb === 'QUIT') {
            send('+OK bye');
            socket.end();
          } else send('-ERR log in first');
          continue;
        }
        if (verb === 'STAT') {
          const live = maildrop.filter((_, i) => !marked.has(i + 1));
          send(`+OK ${live.length} ${live.reduce((n, m) => n + Buffer.byteLength(m, 'latin1'), 0)}`);
        } else if (verb === 'LIST') {
          send('+OK');
          maildrop.forEach((m, i) => {
            if (!marked.has(i + 1)) send(`${i + 1} ${Buffer.byteLength(m, 'latin1')}`);
          });
          send('.');
        } else if (verb === 'RETR' && exists) {
          if (drop) {
            drop = false;
            socket.destroy();
            return;
          }
          const body = maildrop[number - 1]!.replace(/\r?\n$/, '')
            .split(/\r?\n/)
            .map((l) => (l.startsWith('.') ? `.${l}` : l));
          socket.write(`+OK message follows\r\n${body.join('\r\n')}\r\n.\r\n`);
        } else if (verb === 'DELE' && exists) {
          marked.add(number);
          send('+OK marked');
        } else if (verb === 'RSET') {
          marked.clear();
          send('+OK');
        } else if (verb === 'NOOP') {
          send('+OK');
        } else if (verb === 'QUIT') {
          maildrop = maildrop.filter((_, i) => !marked.has(i + 1));
          release();
          send('+OK bye');
          socket.end();
        } else send('-ERR no such message or command');
      }
    });
  };

  const server = options.tls ? tls.createServer(options.tls, serve) : net.createServer(serve);
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      const port = (server.address() as AddressInfo).port;
      resolve({
        port,
        url: (credentials = {}, scheme = options.tls ? 'pop3s' : 'pop3') =>
          `${scheme}://${encodeURIComponent(credentials.user ?? options.user)}:${encodeURIComponent(credentials.password ?? options.password)}@127.0.0.1:${port}`,
        messages: () => [...maildrop],
        add: (raw) => void maildrop.push(raw),
        dropNextRetrieve: () => void (drop = true),
        logins: () => logins,
        close: () =>
          new Promise<void>((done) => {
            for (const socket of sockets) socket.destroy();
            server.close(() => done());
          }),
      });
    });
  });
}
