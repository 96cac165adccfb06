import type { Command } from 'commander';
import {
  listAddresses,
  releaseAddress,
  type AddressEntry,
  type AddressList,
} from '../../delivery/address-lists.ts';
import { traceMessage, type MessageTrace } from '../../delivery/message-trace.ts';
import { UserError } from '../../errors.ts';
import type { Channel } from '../../schema/types.ts';
import { withDatabase } from '../context.ts';
import { createOutput } from '../output.ts';

/**
 * `baton message <id>`: one message of the ledger and its events; `baton quarantine list|release` and
 * `baton unsubscriptions list|remove`: the address lists every send checks (docs/delivery.md).
 */
const CHANNELS = ['email', 'sms', 'push'];

function channelOf(value: string): Channel {
  if (!CHANNELS.includes(value))
    throw new UserError(`The channel must be one of ${CHANNELS.join(', ')}, not "${value}".`);
  return value as Channel;
}

function describeTrace(trace: MessageTrace): string {
  const when = (label: string, at: string | null) => (at ? [`  ${label.padEnd(10)} ${at}`] : []);
  const outcome = [trace.status, trace.bounce && `(${trace.bounce})`, trace.reason && `— ${trace.reason}`]
    .filter(Boolean)
    .join(' ');
  const events = trace.events.map(
    (e) =>
      `  ${e.at}  ${e.type.padEnd(11)} ${e.human ? 'human  ' : 'machine'}${e.url ? ` ${e.url}` : ''}${
        e.machineReason ? ` (${e.machineReason})` : ''
      }${e.reason && e.type !== 'click' ? ` ${e.reason}` : ''}`,
  );
  return [
    `Message ${trace.id}: ${trace.channel} to ${trace.address ?? '(no address)'}, recipient ${trace.recipient}`,
    `  campaign ${trace.campaign}, run ${trace.run}, activity ${trace.activity}; ${trace.attempts} attempt(s) via ${trace.provider ?? '—'}`,
    `  status    ${outcome}`,
    ...when('queued', trace.queuedAt),
    ...when('sent', trace.sentAt),
    ...when('delivered', trace.deliveredAt),
    ...(trace.quarantined
      ? [`  quarantined since ${trace.quarantined.at}: ${trace.quarantined.reason ?? ''}`]
      : []),
    ...(trace.unsubscribed ? [`  unsubscribed since ${trace.unsubscribed.at}`] : []),
    events.length ? `Events (${events.length}):` : 'No events.',
    ...events,
  ].join('\n');
}

function describeList(list: AddressList, page: { total: number; entries: AddressEntry[] }): string {
  if (page.total === 0) return `The ${list} list is empty for this filter.`;
  const lines = page.entries.map(
    (e) => `  ${e.at}  ${e.channel.padEnd(5)} ${e.address}${e.reason ? `  — ${e.reason}` : ''}`,
  );
  const more =
    page.total > page.entries.length ? `\n  … ${page.total - page.entries.length} more (--offset)` : '';
  return `${page.total} address(es) in ${list}:\n${lines.join('\n')}${more}`;
}

function addressListCommand(program: Command, list: AddressList, remove: string, what: string): void {
  const command = program.command(list).description(`${what} (docs/delivery.md)`);
  command
    .command('list')
    .description(`list the ${list}, newest first`)
    .option('--channel <channel>', 'email, sms or push')
    .option('--search <text>', 'part of the address (or of the reason)')
    .option('--limit <n>', 'entries to show', '50')
    .option('--offset <n>', 'entries to skip', '0')
    .option('--json', 'print { total, entries } as JSON')
    .action(
      async (options: {
        channel?: string;
        search?: string;
        limit: string;
        offset: string;
        json?: boolean;
      }) => {
        const limit = Number(options.limit);
        const offset = Number(options.offset);
        if (!Number.isInteger(limit) || limit < 1 || !Number.isInteger(offset) || offset < 0) {
          throw new UserError('--limit must be a whole number from 1 and --offset one from 0.');
        }
        const page = await withDatabase((database) =>
          listAddresses(database, list, {
            channel: options.channel === undefined ? undefined : channelOf(options.channel),
            search: options.search,
            limit,
            offset,
          }),
        );
        createOutput(options.json === true).result(page, describeList(list, page));
      },
    );
  command
    .command(`${remove} <channel> <address>`)
    .description(`take an address off the ${list}: the next send on the channel reaches it again`)
    .option('--json', 'print { channel, address, removed: true } as JSON')
    .action(async (channel: string, address: string, options: { json?: boolean }) => {
      await withDatabase((database) => releaseAddress(database, list, channelOf(channel), address));
      createOutput(options.json === true).result(
        { channel, address, removed: true },
        `${address} is no longer in the ${list} of ${channel}.`,
      );
    });
}

export function ledgerCommands(program: Command): void {
  program
    .command('message <id>')
    .description("one message of the ledger: its status, times, reason, events and the address's lists")
    .option('--json', 'print the message as JSON (the document GET /api/messages/:id answers)')
    .action(async (id: string, options: { json?: boolean }) => {
      const trace = await withDatabase((database) => traceMessage(database, id));
      createOutput(options.json === true).result(trace, describeTrace(trace));
    });
  addressListCommand(
    program,
    'quarantine',
    'release',
    'addresses kept out of every send after a hard bounce or a complaint',
  );
  addressListCommand(program, 'unsubscriptions', 'remove', 'addresses that opted out of a channel');
}
