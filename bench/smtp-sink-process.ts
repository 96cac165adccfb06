import { SMTPServer } from 'smtp-server';

/**
 * A counting SMTP sink in a process of its own, so the benchmark measures the sender and not the
 * receiving side: accepts everything, keeps nothing, and prints the count when asked on stdin.
 */
let accepted = 0;
const server = new SMTPServer({
  logger: false,
  disabledCommands: ['STARTTLS', 'AUTH'],
  maxClients: 1000,
  onData(stream, _session, callback) {
    stream.on('end', () => {
      accepted++;
      callback(null, `queued as B${accepted}`);
    });
    stream.resume();
  },
});
server.listen(0, '127.0.0.1', () => {
  const address = server.server.address();
  process.stdout.write(`port ${typeof address === 'object' && address ? address.port : 0}\n`);
});
process.stdin.setEncoding('utf8').on('data', () => process.stdout.write(`accepted ${accepted}\n`));
