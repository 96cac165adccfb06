import { timingSafeEqual } from 'node:crypto';
import type { FastifyInstance, FastifyReply } from 'fastify';
import type { BatonConfig } from '../../config.ts';
import type { Database } from '../../db/database.ts';
import { UserError } from '../../errors.ts';
import { readEmailReport, ReportFormatError } from '../../tracking/feedback/email-reports.ts';
import type { FeedbackReading } from '../../tracking/feedback/feedback.ts';
import { FeedbackGroups } from '../../tracking/feedback/recorder.ts';
import {
  readTwilioCallback,
  readVonageReceipt,
  twilioSignatureValid,
  vonageSignatureValid,
  type Params,
} from '../../tracking/feedback/sms-callbacks.ts';

/**
 * `POST /webhooks/<provider>`: provider feedback (docs/tracking.md "Provider feedback").
 * - `smtp`: an email report (a DSN or an abuse report) as `message/rfc822`, posted by whatever reads the
 *   bounce mailbox, with `Authorization: Bearer <BATON_WEBHOOK_SECRET>`;
 * - `twilio`: Twilio's status callbacks, checked against X-Twilio-Signature;
 * - `vonage`: Vonage's delivery receipts (GET or POST, form or JSON), accepted signed only.
 * Nothing is recorded from a request that fails its check. The answer counts what was recorded; feedback
 * on a message whose send is still being written is answered 503, for the provider to send it again.
 */
export type WebhookConfig = Pick<BatonConfig, 'publicUrl' | 'webhookSecret' | 'providers'>;

/** An email report is at most this large (RFC 3462 reports return headers, or a message at most). */
const MAX_REPORT_BYTES = 30 * 1024 * 1024;
const MAX_CALLBACK_BYTES = 64 * 1024;

function secretMatches(secret: string, authorization: string | undefined): boolean {
  const given = /^Bearer\s+(.+)$/i.exec(authorization ?? '')?.[1]?.trim();
  if (given === undefined) return false;
  const left = Buffer.from(secret);
  const right = Buffer.from(given);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Query, form or JSON fields as text, the way the providers' signatures see them. */
function fields(query: unknown, body: unknown): Params {
  const params: Params = {};
  for (const source of [query, body]) {
    if (source === null || typeof source !== 'object' || Buffer.isBuffer(source)) continue;
    for (const [name, value] of Object.entries(source as Record<string, unknown>)) {
      // Receipts are flat: a nested value (never sent by these providers) is not a field to sign or read.
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
        params[name] = String(value);
    }
  }
  return params;
}

async function answer(groups: FeedbackGroups, reply: FastifyReply, reading: FeedbackReading) {
  const outcome = await groups.record(reading);
  if (outcome.early > 0) reply.status(503).header('retry-after', '30');
  return outcome;
}

export function webhookRoutes(app: FastifyInstance, database: Database, config: WebhookConfig): void {
  const { providers } = config;
  const base = config.publicUrl.replace(/\/+$/, '');
  const groups = new FeedbackGroups(database);
  // A plugin scope, so that the parsers below serve the webhooks only.
  void app.register((scope, _options, done) => {
    scope.addContentTypeParser(
      ['message/rfc822', 'message/global'],
      { parseAs: 'buffer', bodyLimit: MAX_REPORT_BYTES },
      (_request, body, done) => done(null, body),
    );
    scope.addContentTypeParser(
      'application/x-www-form-urlencoded',
      { parseAs: 'string', bodyLimit: MAX_CALLBACK_BYTES },
      (_request, body, done) => done(null, Object.fromEntries(new URLSearchParams(body as string))),
    );

    scope.post('/webhooks/smtp', async (request, reply) => {
      if (config.webhookSecret === undefined) {
        throw new UserError(
          'Posting email reports needs BATON_WEBHOOK_SECRET on the server, sent as "Authorization: Bearer <secret>".',
          { status: 403 },
        );
      }
      if (!secretMatches(config.webhookSecret, request.headers.authorization)) {
        throw new UserError('Authorization must be "Bearer <BATON_WEBHOOK_SECRET>".', { status: 401 });
      }
      if (!Buffer.isBuffer(request.body) || request.body.length === 0) {
        throw new ReportFormatError('Post the report as it was received, with Content-Type: message/rfc822.');
      }
      const reading = readEmailReport(request.body);
      if (!reading) {
        throw new ReportFormatError(
          'This email is not a report: expected multipart/report with report-type delivery-status (RFC 3464) or feedback-report (RFC 5965).',
        );
      }
      return answer(groups, reply, reading);
    });

    scope.route({
      method: ['GET', 'POST'],
      url: '/webhooks/:provider',
      bodyLimit: MAX_CALLBACK_BYTES,
      handler: async (request, reply) => {
        const { provider } = request.params as { provider: string };
        const params = fields(request.query, request.body);
        const sms = providers.smsProvider;
        if (provider === 'twilio' && sms === 'twilio' && request.method === 'POST') {
          const { message, ...posted } = params;
          // Twilio signs the URL it was given, query included, and the posted fields.
          const signed = twilioSignatureValid(
            providers.smsToken ?? '',
            `${base}${request.url}`,
            fields(undefined, request.body),
            request.headers['x-twilio-signature'] as string | undefined,
          );
          if (!providers.smsToken || !signed) {
            throw new UserError(
              `X-Twilio-Signature does not match ${base}${request.url} signed with SMS_TOKEN: is BATON_PUBLIC_URL the address Twilio calls?`,
              { status: 403 },
            );
          }
          return answer(groups, reply, readTwilioCallback(posted, message));
        }
        if (provider === 'vonage' && sms === 'vonage') {
          if (!providers.smsSignatureSecret) {
            throw new UserError(
              'Vonage delivery receipts are accepted signed only: turn on signed webhooks in Vonage and set SMS_SIGNATURE_SECRET (and SMS_SIGNATURE_METHOD).',
              { status: 403 },
            );
          }
          if (
            !vonageSignatureValid(
              providers.smsSignatureSecret,
              providers.smsSignatureMethod,
              params,
              Date.now(),
            )
          ) {
            throw new UserError(
              "The receipt's sig does not match SMS_SIGNATURE_SECRET with SMS_SIGNATURE_METHOD, or its timestamp is over 5 minutes old.",
              { status: 403 },
            );
          }
          return answer(groups, reply, readVonageReceipt(params));
        }
        const served = ['smtp', ...(sms === 'twilio' || sms === 'vonage' ? [sms] : [])];
        throw new UserError(
          `No ${request.method} webhook for "${provider}": this server takes ${served.map((p) => `/webhooks/${p}`).join(', ')}${sms === 'twilio' ? ' (Twilio posts)' : ''}.`,
          { status: 404 },
        );
      },
    });
    done();
  });
}
