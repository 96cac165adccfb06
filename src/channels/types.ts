import type { Channel } from '../schema/types.ts';

/**
 * The contracts between the delivery engine (src/delivery/), the rendering of messages
 * (src/channels/render/) and the providers that send them (src/channels/providers/). A message is
 * rendered once per attempt from its ledger row and handed to the provider of its channel, which answers
 * with one of three normalised results.
 */

/** What a provider says about one message. */
export type SendResult =
  | {
      status: 'accepted';
      /** The provider's id of the message (SMTP queue id, SMS sid…), when it gives one. */
      providerMessageId: string | null;
    }
  | {
      /** Worth trying again later (4xx, timeouts, a dropped connection, 429, 5xx of an HTTP API). */
      status: 'transient';
      reason: string;
      /** When the provider says how long to wait (Retry-After). */
      retryAfterMs?: number;
    }
  | {
      /** Never worth trying again: the address or the message is refused. */
      status: 'permanent';
      reason: string;
      /** A refused address: `hard` (it does not exist) quarantines it; `soft` (mailbox full…) does not. */
      bounce: 'hard' | 'soft' | null;
    };

export interface OutgoingEmail {
  /** The ledger's message id (a UUID); also the base of the RFC 5322 Message-ID. */
  messageId: string;
  from: string;
  to: string;
  replyTo?: string;
  subject: string;
  html: string;
  text: string;
  /** Extra headers: Message-ID, List-Unsubscribe, List-Unsubscribe-Post… */
  headers: Record<string, string>;
}

export interface OutgoingSms {
  messageId: string;
  /** E.164 (`+33612345678`). */
  to: string;
  from?: string;
  text: string;
  encoding: 'GSM-7' | 'UCS-2';
  segments: number;
}

export interface OutgoingPush {
  messageId: string;
  /** The device token (FCM registration token, APNs device token) or a Web Push subscription as JSON. */
  token: string;
  title: string;
  body: string;
  data: Record<string, string>;
  deepLink?: string;
}

export interface OutgoingMessages {
  email: OutgoingEmail;
  sms: OutgoingSms;
  push: OutgoingPush;
}

export type SendingChannel = Exclude<Channel, 'direct-mail'>;

/** A way to send one channel's messages (SMTP, an SMS API, FCM…, or the local simulator). */
export interface Provider<C extends SendingChannel = SendingChannel> {
  /** The name campaign documents and settings use (`smtp`, `simulator`, `twilio`…). */
  readonly name: string;
  readonly channel: C;
  /**
   * True when the provider deduplicates on the idempotency key: a message sent again after a crash is
   * then never delivered twice, so the delivery engine may resend it instead of counting it uncertain.
   */
  readonly idempotent: boolean;
  send(message: OutgoingMessages[C], options: { idempotencyKey: string }): Promise<SendResult>;
  close(): Promise<void>;
}
