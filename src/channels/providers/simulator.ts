import { createHash } from 'node:crypto';
import type { Database } from '../../db/database.ts';
import { recordOutboxMessage, type NewOutboxMessage } from '../outbox/store.ts';
import type { OutgoingMessages, Provider, SendingChannel } from '../types.ts';

/**
 * A local stand-in for a channel's real provider: every message it is given lands in the outbox table
 * (GET /api/outbox), and it always accepts. Its id is derived from the idempotency key and the outbox
 * ignores a row whose id it already has, so a resend after a crash records nothing new and answers with
 * the same id: it is `idempotent`, like a provider honouring idempotency keys.
 */
function simulatorId(channel: SendingChannel, idempotencyKey: string): string {
  return `sim-${createHash('sha256').update(`${channel}\0${idempotencyKey}`).digest('hex').slice(0, 32)}`;
}

function outboxRow<C extends SendingChannel>(channel: C, message: OutgoingMessages[C]): NewOutboxMessage {
  switch (channel) {
    case 'email': {
      const email = message as OutgoingMessages['email'];
      const messageIdHeader = Object.entries(email.headers).find(
        ([name]) => name.toLowerCase() === 'message-id',
      );
      return {
        channel,
        messageId: messageIdHeader?.[1].replace(/^<|>$/g, '') ?? email.messageId,
        recipient: email.to,
        sender: email.from,
        subject: email.subject,
        text: email.text,
        html: email.html,
        headers: { ...email.headers, ...(email.replyTo ? { 'Reply-To': email.replyTo } : {}) },
      };
    }
    case 'sms': {
      const sms = message as OutgoingMessages['sms'];
      return {
        channel,
        messageId: sms.messageId,
        recipient: sms.to,
        sender: sms.from ?? null,
        text: sms.text,
        headers: { encoding: sms.encoding, segments: sms.segments },
      };
    }
    default: {
      const push = message as OutgoingMessages['push'];
      return {
        channel,
        messageId: push.messageId,
        recipient: push.token,
        subject: push.title,
        text: push.body,
        headers: { data: push.data, ...(push.deepLink ? { deepLink: push.deepLink } : {}) },
      };
    }
  }
}

export function createSimulator<C extends SendingChannel>(
  channel: C,
  database: Database,
  name = 'simulator',
): Provider<C> {
  return {
    name,
    channel,
    idempotent: true,
    async send(message, { idempotencyKey }) {
      const id = simulatorId(channel, idempotencyKey);
      try {
        await recordOutboxMessage(database, { ...outboxRow(channel, message), id, providerId: id });
      } catch (error) {
        // Nothing was recorded, so the message was not "sent": worth another try.
        return { status: 'transient', reason: `the outbox could not record it: ${(error as Error).message}` };
      }
      return { status: 'accepted', providerMessageId: id };
    },
    close: () => Promise.resolve(),
  };
}
