import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { BatonConfig } from '../config.ts';
import type { Database } from '../db/database.ts';
import { normaliseAddress } from '../delivery/address-lists.ts';
import type { Channel } from '../schema/types.ts';
import { EventWriter, type EventWriterOptions, type RequestInfo } from './event-writer.ts';
import { loadKeyring } from './keys.ts';
import { TokenSigner } from './tokens.ts';
import { MessageDirectory, type TrackedMessage } from './tracked-messages.ts';

/** A transparent 1×1 GIF (43 bytes). */
const PIXEL = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');

/** An unsubscribe POST carries at most `List-Unsubscribe=One-Click`; nothing larger is read. */
const UNSUBSCRIBE_BODY_LIMIT = 4096;

export interface TrackingOptions extends EventWriterOptions {
  signer: TokenSigner;
}

/**
 * The tracking signer of a server given its full configuration (the public URL says so, as `baton start`
 * and `baton server` give it), from the same keyring the senders sign with; none for an app built with
 * only a data folder (most API tests), which has no tracking links to answer.
 */
export function trackingSigner(
  config: Pick<BatonConfig, 'dataDir'> & Partial<BatonConfig>,
  database: Database,
): TokenSigner | undefined {
  if (config.publicUrl === undefined) return undefined;
  return new TokenSigner(
    loadKeyring({
      dataDir: config.dataDir,
      databaseUrl: database.kind === 'postgres' ? database.location : undefined,
      secret: config.secret,
      previousSecrets: config.previousSecrets,
    }),
  );
}

/**
 * `GET /t/o/<token>` (open pixel), `GET /t/c/<token>` (302 to the message's link), `GET|POST /u/<token>`
 * (unsubscribe page, RFC 8058 one-click). Every token is verified before anything else happens; a bad one
 * gets a bare 404 and records nothing. Returns the writer, whose buffered events are written on close.
 */
export function trackingRoutes(
  app: FastifyInstance,
  database: Database,
  options: TrackingOptions,
): EventWriter {
  const { signer } = options;
  const directory = new MessageDirectory(database.db);
  const writer = new EventWriter(database, options);
  app.addHook('onClose', () => writer.close());

  // Synchronous: the pixel needs no database, so the answer goes without a promise in between.
  app.get<{ Params: { token: string } }>('/t/o/:token', (request, reply) => {
    const payload = signer.verify(request.params.token);
    if (payload?.kind !== 'open') {
      notFound(reply);
      return;
    }
    // The message is looked up when the event is written (an unknown one records nothing).
    writer.open(payload.messageId, requestInfo(request));
    void reply.header('cache-control', 'no-store').type('image/gif').send(PIXEL);
  });

  const redirect = (
    request: FastifyRequest,
    reply: FastifyReply,
    message: TrackedMessage | undefined,
    link: number,
  ): FastifyReply => {
    // The destination is the ledger's, by index: nothing in the request can choose it.
    const location = message ? redirectable(message.links[link]) : undefined;
    if (!message || location === undefined) return notFound(reply);
    writer.click(message, link, requestInfo(request));
    return reply.header('cache-control', 'no-store').redirect(location, 302);
  };

  // Synchronous when the message is cached, as most of a campaign's clicks find it: no promise between
  // the request and its answer. Otherwise the lookup joins the others of the same event-loop turn.
  app.get<{ Params: { token: string } }>('/t/c/:token', (request, reply) => {
    const payload = signer.verify(request.params.token);
    if (payload?.kind !== 'click') return void notFound(reply);
    const cached = directory.peek(payload.messageId);
    if (cached) return void redirect(request, reply, cached, payload.link);
    directory.get(payload.messageId).then(
      (message) => redirect(request, reply, message, payload.link),
      (error: unknown) => reply.send(error),
    );
  });

  const unsubscribing = async (token: string): Promise<UnsubscribingMessage | undefined> => {
    const payload = signer.verify(token);
    if (payload?.kind !== 'unsubscribe') return undefined;
    const message = await directory.get(payload.messageId);
    return message?.address ? { ...message, address: message.address } : undefined;
  };

  // A GET only shows the page: link scanners fetch every URL of a message, and must not opt anyone out.
  app.get<{ Params: { token: string } }>('/u/:token', async (request, reply) => {
    const message = await unsubscribing(request.params.token);
    if (!message) return notFound(reply);
    return page(
      reply,
      'Unsubscribe',
      `<p>Stop sending ${channelWords(message.channel)} to <strong>${escapeHtml(message.address)}</strong>?</p>
<form method="post"><input type="hidden" name="List-Unsubscribe" value="One-Click"><button type="submit">Unsubscribe</button></form>`,
    );
  });

  // Form posts are read here only: elsewhere the API keeps refusing a content type it does not take. The
  // body is read (within the limit) and ignored, urlencoded as RFC 8058 posts it or multipart as a browser
  // may post the page's form.
  void app.register((scope, _options, done) => {
    scope.addContentTypeParser(
      ['application/x-www-form-urlencoded', 'multipart/form-data'],
      { parseAs: 'string', bodyLimit: UNSUBSCRIBE_BODY_LIMIT },
      (_request, body, parsed) => parsed(null, body),
    );
    scope.post<{ Params: { token: string } }>(
      '/u/:token',
      { bodyLimit: UNSUBSCRIBE_BODY_LIMIT },
      async (request, reply) => {
        const message = await unsubscribing(request.params.token);
        if (!message) return notFound(reply);
        // The token is the authority: whatever the body says (RFC 8058 sends List-Unsubscribe=One-Click),
        // a POST to a genuine unsubscribe link opts the address out of the channel, once.
        await database.db
          .insertInto('unsubscriptions')
          .values({
            channel: message.channel,
            address: normaliseAddress(message.channel as Channel, message.address),
            message_id: message.id,
            at: new Date().toISOString(),
          })
          .onConflict((oc) => oc.columns(['channel', 'address']).doNothing())
          .execute();
        writer.unsubscribe(message, requestInfo(request));
        return page(
          reply,
          'Unsubscribed',
          `<p>You are unsubscribed: <strong>${escapeHtml(message.address)}</strong> will receive no more ${channelWords(message.channel)} from us.</p>`,
        );
      },
    );
    done();
  });

  return writer;
}

type UnsubscribingMessage = TrackedMessage & { address: string };

function requestInfo(request: FastifyRequest): RequestInfo {
  return { userAgent: request.headers['user-agent'], method: request.method };
}

/** The same few bytes for every refusal: nothing tells a prober which part of a token was wrong. */
function notFound(reply: FastifyReply): FastifyReply {
  return reply.code(404).header('cache-control', 'no-store').type('text/plain').send('Not found\n');
}

/**
 * Only http(s) links were tracked (src/channels/render/links.ts); anything else in the ledger is refused
 * rather than sent as a Location. A link with characters a header cannot carry goes out URL-encoded.
 */
function redirectable(link: string | undefined): string | undefined {
  if (link === undefined || !/^https?:\/\//i.test(link)) return undefined;
  if (/^[\x21-\x7e]+$/.test(link)) return link;
  try {
    return new URL(link).href;
  } catch {
    return undefined;
  }
}

function channelWords(channel: string): string {
  const words: Record<string, string> = { email: 'emails', sms: 'text messages', push: 'notifications' };
  return words[channel] ?? `${channel} messages`;
}

function escapeHtml(text: string): string {
  return text
    .replaceAll('&', '&amp;')
    .replaceAll('<', '&lt;')
    .replaceAll('>', '&gt;')
    .replaceAll('"', '&quot;')
    .replaceAll("'", '&#39;');
}

/** A small page with no external assets; no referrer, so the token in its URL goes nowhere else. */
function page(reply: FastifyReply, title: string, body: string): FastifyReply {
  return reply
    .header('cache-control', 'no-store')
    .header('referrer-policy', 'no-referrer')
    .header(
      'content-security-policy',
      "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; frame-ancestors 'none'",
    )
    .type('text/html; charset=utf-8').send(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${title}</title>
<style>body{font-family:system-ui,sans-serif;max-width:32rem;margin:4rem auto;padding:0 1rem;color:#222}button{font:inherit;padding:.5rem 1.25rem}</style>
</head><body><h1>${title}</h1>
${body}
</body></html>
`);
}
