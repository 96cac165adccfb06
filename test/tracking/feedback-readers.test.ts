import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { readEmailReport, ReportFormatError } from '../../src/tracking/feedback/email-reports.ts';
import {
  readTwilioCallback,
  readVonageReceipt,
  twilioSignatureValid,
  vonageSignatureValid,
} from '../../src/tracking/feedback/sms-callbacks.ts';
import { arfEmail, dsnEmail } from '../helpers/mail-reports.ts';

/**
 * Reading provider feedback: bounce reports and abuse reports as mail systems write them, SMS receipts
 * in Twilio's and Vonage's formats, and their signatures (computed here the way each provider documents
 * it, independently of the code under test).
 */
const ID = '0f6b5b8e-3c1a-8d2e-9f00-123456789abc';
const OTHER = '11111111-2222-8333-9444-555555555555';

describe('email reports', () => {
  it('reads a hard bounce, naming the message by the returned Message-ID', () => {
    const reading = readEmailReport(
      dsnEmail({
        originalMessageId: `<${ID}@shop.example.test>`,
        recipient: 'ghost@example.net',
        action: 'failed',
        status: '5.1.1',
        diagnostic: '550 5.1.1 <ghost@example.net>: Recipient address rejected: User unknown',
        lastAttempt: new Date('2026-11-28T09:05:00Z'),
      }),
    );
    expect(reading).toEqual({
      items: [
        {
          kind: 'bounce',
          messageId: ID,
          key: `dsn:${ID}:ghost@example.net:failed`,
          bounce: 'hard',
          reason: '550 5.1.1 <ghost@example.net>: Recipient address rejected: User unknown',
          at: new Date('2026-11-28T09:05:00Z'),
        },
      ],
      ignored: {},
    });
  });

  it('tells soft bounces (mailbox full, policy, temporary failure given up) from hard ones', () => {
    const kind = (status: string) =>
      readEmailReport(
        dsnEmail({ originalMessageId: `<${ID}@x>`, recipient: 'a@b.example', action: 'failed', status }),
      )!.items[0]!.bounce;
    expect(kind('5.1.1')).toBe('hard');
    expect(kind('5.1.10')).toBe('hard');
    expect(kind('5.2.2')).toBe('soft');
    expect(kind('5.7.1')).toBe('soft');
    expect(kind('5.1.8')).toBe('soft');
    expect(kind('4.4.7')).toBe('soft');
  });

  it('falls back on the envelope id when the original is not returned, and reads a base64 status part', () => {
    const reading = readEmailReport(
      dsnEmail({
        envelopeId: ID,
        recipient: 'full@example.net',
        action: 'failed',
        status: '5.2.2',
        base64Status: true,
        returned: 'message',
      }),
    )!;
    expect(reading.items).toMatchObject([
      { kind: 'bounce', messageId: ID, bounce: 'soft', reason: 'status 5.2.2' },
    ]);
  });

  it('reads receipts (delivered, relayed) and ignores delays', () => {
    const read = (action: 'delivered' | 'relayed' | 'delayed') =>
      readEmailReport(
        dsnEmail({ originalMessageId: `<${ID}@x>`, recipient: 'a@b.example', action, status: '2.0.0' }),
      )!;
    expect(read('delivered').items).toMatchObject([{ kind: 'delivered', messageId: ID }]);
    expect(read('relayed').items).toMatchObject([{ kind: 'delivered', messageId: ID }]);
    expect(read('delayed')).toEqual({ items: [], ignored: { delayed: 1 } });
  });

  it('counts a report naming no message of ours as unidentified', () => {
    const reading = readEmailReport(
      dsnEmail({
        originalMessageId: '<CAB123@mail.other.example>',
        recipient: 'a@b.example',
        action: 'failed',
        status: '5.1.1',
      }),
    );
    expect(reading).toEqual({ items: [], ignored: { unidentified: 1 } });
  });

  it('reads abuse reports as complaints, except not-spam and authentication failures', () => {
    const read = (feedbackType: string) =>
      readEmailReport(
        arfEmail({
          originalMessageId: `<${ID}@shop.example.test>`,
          feedbackType,
          recipient: 'ann@isp.example',
        }),
      )!;
    expect(read('abuse')).toEqual({
      items: [
        {
          kind: 'complaint',
          messageId: ID,
          key: `arf:${ID}:abuse`,
          reason: 'abuse',
          at: new Date('2026-11-28T10:15:00Z'),
        },
      ],
      ignored: {},
    });
    expect(read('not-spam')).toEqual({ items: [], ignored: { 'not-spam': 1 } });
    expect(read('auth-failure')).toEqual({ items: [], ignored: { 'auth-failure': 1 } });
  });

  it('says an ordinary email is no report, and refuses reports missing their machine-readable part', () => {
    expect(readEmailReport('From: a@b\r\nSubject: hi\r\n\r\nHello')).toBeUndefined();
    const broken = dsnEmail({
      originalMessageId: `<${ID}@x>`,
      recipient: 'a@b',
      action: 'failed',
      status: '5.1.1',
    }).replace('Content-Type: message/delivery-status', 'Content-Type: text/plain');
    expect(() => readEmailReport(broken)).toThrow(ReportFormatError);
    const noType = arfEmail({
      originalMessageId: `<${ID}@x>`,
      feedbackType: 'abuse',
      recipient: 'a@b',
    }).replace('Feedback-Type: abuse', 'X-Nothing: here');
    expect(() => readEmailReport(noType)).toThrow(/Feedback-Type/);
  });

  it('survives truncated and garbled input without throwing anything but a format error', () => {
    const whole = dsnEmail({
      originalMessageId: `<${ID}@x>`,
      recipient: 'a@b',
      action: 'failed',
      status: '5.1.1',
    });
    for (let cut = 0; cut < whole.length; cut += 37) {
      try {
        readEmailReport(whole.slice(0, cut));
      } catch (error) {
        expect(error).toBeInstanceOf(ReportFormatError);
      }
    }
  });
});

describe('SMS receipts', () => {
  it('reads Twilio statuses: delivered, undelivered by a dead number (hard) or a carrier (soft), the rest ignored', () => {
    expect(readTwilioCallback({ MessageSid: 'SM1', MessageStatus: 'delivered' }, ID).items).toEqual([
      { kind: 'delivered', messageId: ID, key: 'twilio:SM1:delivered', reason: null },
    ]);
    expect(
      readTwilioCallback({ MessageSid: 'SM1', MessageStatus: 'undelivered', ErrorCode: '30005' }, ID).items,
    ).toMatchObject([{ kind: 'bounce', bounce: 'hard', reason: 'Twilio undelivered: error 30005' }]);
    expect(
      readTwilioCallback({ MessageSid: 'SM1', MessageStatus: 'failed', ErrorCode: '30007' }, ID).items,
    ).toMatchObject([{ kind: 'bounce', bounce: 'soft' }]);
    expect(readTwilioCallback({ MessageSid: 'SM1', MessageStatus: 'sent' }, ID)).toEqual({
      items: [],
      ignored: { sent: 1 },
    });
    expect(readTwilioCallback({ MessageSid: 'SM1', MessageStatus: 'delivered' }, 'not-an-id')).toEqual({
      items: [],
      ignored: { unidentified: 1 },
    });
  });

  it('reads Vonage receipts with their UTC timestamps', () => {
    const base = { messageId: 'V1', 'client-ref': ID, 'message-timestamp': '2026-11-28 10:00:05' };
    expect(readVonageReceipt({ ...base, status: 'delivered', 'err-code': '0' }).items).toEqual([
      {
        kind: 'delivered',
        messageId: ID,
        key: 'vonage:V1:delivered',
        reason: null,
        at: new Date('2026-11-28T10:00:05Z'),
      },
    ]);
    expect(readVonageReceipt({ ...base, status: 'failed', 'err-code': '9' }).items).toMatchObject([
      { kind: 'bounce', bounce: 'hard', reason: 'Vonage failed: error 9' },
    ]);
    expect(readVonageReceipt({ ...base, status: 'expired', 'err-code': '3' }).items).toMatchObject([
      { bounce: 'soft' },
    ]);
    expect(readVonageReceipt({ ...base, status: 'buffered' })).toEqual({
      items: [],
      ignored: { buffered: 1 },
    });
    expect(readVonageReceipt({ ...base, 'client-ref': OTHER.slice(1), status: 'delivered' }).items).toEqual(
      [],
    );
  });

  it("checks Twilio's signature over the URL and the sorted fields", () => {
    const url = 'https://baton.example/webhooks/twilio?message=' + ID;
    const params = { MessageSid: 'SM9', MessageStatus: 'delivered', AccountSid: 'AC1', To: '+15550001' };
    const data = url + 'AccountSidAC1' + 'MessageSidSM9' + 'MessageStatusdelivered' + 'To+15550001';
    const signature = createHmac('sha1', 'tok').update(data).digest('base64');
    expect(twilioSignatureValid('tok', url, params, signature)).toBe(true);
    expect(twilioSignatureValid('other', url, params, signature)).toBe(false);
    expect(twilioSignatureValid('tok', url.replace(ID, OTHER), params, signature)).toBe(false);
    expect(twilioSignatureValid('tok', url, { ...params, MessageStatus: 'undelivered' }, signature)).toBe(
      false,
    );
    expect(twilioSignatureValid('tok', url, params, undefined)).toBe(false);
  });

  it("checks Vonage's signature (MD5 hash and HMACs) and refuses old timestamps", () => {
    const now = Date.parse('2026-11-28T10:00:00Z');
    const params = {
      'client-ref': ID,
      messageId: 'V1',
      status: 'delivered',
      text: 'a&b=c',
      timestamp: String(now / 1000),
    };
    const sorted =
      '&client-ref=' + ID + '&messageId=V1&status=delivered&text=a_b_c&timestamp=' + String(now / 1000);
    const md5 = createHash('md5')
      .update(sorted + 'sec')
      .digest('hex');
    const sha256 = createHmac('sha256', 'sec').update(sorted).digest('hex').toUpperCase();
    expect(vonageSignatureValid('sec', 'md5hash', { ...params, sig: md5 }, now)).toBe(true);
    expect(vonageSignatureValid('sec', 'sha256', { ...params, sig: sha256 }, now)).toBe(true);
    expect(vonageSignatureValid('sec', 'sha256', { ...params, sig: md5 }, now)).toBe(false);
    expect(vonageSignatureValid('bad', 'md5hash', { ...params, sig: md5 }, now)).toBe(false);
    expect(vonageSignatureValid('sec', 'md5hash', { ...params, status: 'failed', sig: md5 }, now)).toBe(
      false,
    );
    expect(vonageSignatureValid('sec', 'md5hash', { ...params, sig: md5 }, now + 301_000)).toBe(false);
    expect(vonageSignatureValid('sec', 'md5hash', params, now)).toBe(false);
  });
});
