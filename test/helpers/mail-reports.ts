/**
 * Reports as mail systems write them, for tests: a delivery status notification (RFC 3464) returning the
 * original message or its headers, and an abuse report (RFC 5965), both CRLF-terminated.
 */
export interface DsnOptions {
  /** The original's Message-ID header value, angle brackets included; omitted: none is returned. */
  originalMessageId?: string;
  recipient: string;
  action: 'failed' | 'delayed' | 'delivered' | 'relayed' | 'expanded';
  status: string;
  diagnostic?: string;
  /** The per-message Original-Envelope-Id (RFC 3461 ENVID). */
  envelopeId?: string;
  /** How the original comes back: whole (message/rfc822) or its headers only (text/rfc822-headers). */
  returned?: 'message' | 'headers';
  lastAttempt?: Date;
  /** The status part base64-encoded, as some gateways do. */
  base64Status?: boolean;
}

const crlf = (lines: string[]) => lines.join('\r\n');

function originalPart(messageId: string | undefined, returned: 'message' | 'headers'): string[] {
  const headers = [
    'From: Shop <shop@example.test>',
    'To: someone@example.test',
    'Subject: Our spring sale',
    ...(messageId ? [`Message-ID: ${messageId}`] : []),
    'Date: Sat, 28 Nov 2026 09:00:00 +0000',
  ];
  return returned === 'message'
    ? ['Content-Type: message/rfc822', '', ...headers, '', 'Hello, our sale starts today.', '']
    : ['Content-Type: text/rfc822-headers', '', ...headers, ''];
}

export function dsnEmail(options: DsnOptions): string {
  const perMessage = [
    'Reporting-MTA: dns; mx.example.net',
    ...(options.envelopeId ? [`Original-Envelope-Id: ${options.envelopeId}`] : []),
    'Arrival-Date: Sat, 28 Nov 2026 09:00:01 +0000',
  ];
  const perRecipient = [
    `Final-Recipient: rfc822; ${options.recipient}`,
    `Original-Recipient: rfc822;${options.recipient}`,
    `Action: ${options.action}`,
    `Status: ${options.status}`,
    ...(options.diagnostic ? [`Diagnostic-Code: smtp; ${options.diagnostic}`] : []),
    ...(options.lastAttempt ? [`Last-Attempt-Date: ${options.lastAttempt.toUTCString()}`] : []),
  ];
  const statusBody = crlf([...perMessage, '', ...perRecipient, '']);
  const statusPart = options.base64Status
    ? [
        'Content-Type: message/delivery-status',
        'Content-Transfer-Encoding: base64',
        '',
        ...(Buffer.from(statusBody)
          .toString('base64')
          .match(/.{1,76}/g) ?? []),
      ]
    : ['Content-Type: message/delivery-status', '', statusBody];
  return crlf([
    'From: Mail Delivery System <MAILER-DAEMON@mx.example.net>',
    'To: bounces@example.test',
    'Subject: Undelivered Mail Returned to Sender',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=delivery-status;',
    '\tboundary="=_report_7"',
    '',
    'This is a MIME-encapsulated message.',
    '',
    '--=_report_7',
    'Content-Type: text/plain; charset=us-ascii',
    '',
    `I could not deliver your message to ${options.recipient}.`,
    '',
    '--=_report_7',
    ...statusPart,
    '',
    '--=_report_7',
    ...originalPart(options.originalMessageId, options.returned ?? 'headers'),
    '--=_report_7--',
    '',
  ]);
}

export function arfEmail(options: { originalMessageId?: string; feedbackType: string; recipient: string }) {
  return crlf([
    'From: Abuse Desk <abuse@isp.example>',
    'To: fbl@example.test',
    'Subject: Abuse report',
    'MIME-Version: 1.0',
    'Content-Type: multipart/report; report-type=feedback-report; boundary="arf-1"',
    '',
    '--arf-1',
    'Content-Type: text/plain',
    '',
    'A recipient marked this message as spam.',
    '',
    '--arf-1',
    'Content-Type: message/feedback-report',
    '',
    `Feedback-Type: ${options.feedbackType}`,
    'User-Agent: ExampleFBL/1.0',
    'Version: 1',
    `Original-Rcpt-To: ${options.recipient}`,
    'Arrival-Date: Sat, 28 Nov 2026 10:15:00 +0000',
    '',
    '--arf-1',
    ...originalPart(options.originalMessageId, 'message'),
    '--arf-1--',
    '',
  ]);
}
