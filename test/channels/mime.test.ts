import { simpleParser, type AddressObject, type ParsedMail } from 'mailparser';
import { describe, expect, it } from 'vitest';
import { buildMime, MimeError } from '../../src/channels/render/mime.ts';
import type { OutgoingEmail } from '../../src/channels/types.ts';

const ID = '0c3a1b2c-1111-4222-8333-444455556666';

function email(overrides: Partial<OutgoingEmail> = {}): OutgoingEmail {
  return {
    messageId: ID,
    from: 'Baton News <news@baton.example>',
    to: 'Ada Lovelace <ada@example.test>',
    subject: 'Spring sale',
    html: '<p>Spring sale: <b>20%</b> off</p>',
    text: 'Spring sale: 20% off',
    headers: {
      'Message-ID': `<${ID}@baton.example>`,
      'List-Unsubscribe': `<https://baton.example/u/${ID}>`,
      'List-Unsubscribe-Post': 'List-Unsubscribe=One-Click',
    },
    ...overrides,
  };
}

function single(address: AddressObject | AddressObject[] | undefined) {
  const list = Array.isArray(address) ? address : address ? [address] : [];
  expect(list).toHaveLength(1);
  expect(list[0]?.value).toHaveLength(1);
  return list[0]!.value[0]!;
}

/** What a reader gives back of a body: line breaks as LF, however they were written. */
const asRead = (body: string) => body.replace(/\r\n/g, '\n');

/**
 * The source's lines, checked for what every message must satisfy: 7-bit, CRLF only, headers within 78
 * characters unless a single word is longer, quoted-printable lines within 76 with every `=` starting an
 * escape or a soft break, and no line of a part that looks like the boundary.
 */
function checkSource(raw: Buffer): { headers: string[]; body: string[] } {
  expect(raw.every((byte) => byte < 0x80)).toBe(true);
  const source = raw.toString('latin1');
  expect(source).not.toMatch(/\r(?!\n)|(?<!\r)\n/);
  const end = source.indexOf('\r\n\r\n');
  const headers = source.slice(0, end).split('\r\n');
  const body = source.slice(end + 4).split('\r\n');
  for (const line of headers) {
    expect(line.length).toBeLessThanOrEqual(998);
    // Longer than 78 only for a word that cannot be folded (a long URL).
    if (line.length > 78) expect(line.replace(/^[^:\s]+:\s*|^\s+/, '')).not.toMatch(/\s/);
  }
  const boundary = /boundary="([^"]+)"/.exec(headers.join(''))?.[1];
  let inPartHeaders = boundary !== undefined;
  for (const line of body) {
    if (boundary !== undefined && line.startsWith('--')) {
      expect([`--${boundary}`, `--${boundary}--`]).toContain(line);
      inPartHeaders = true;
    } else if (inPartHeaders) {
      if (line === '') inPartHeaders = false;
    } else {
      expect(line.length).toBeLessThanOrEqual(76);
      expect(line).not.toMatch(/=(?![0-9A-F]{2}|$)/);
      expect(line).not.toMatch(/[ \t]$/);
      expect(line.startsWith('.')).toBe(false);
    }
  }
  return { headers, body };
}

async function roundTrip(message: OutgoingEmail): Promise<ParsedMail> {
  const built = buildMime(message, { date: new Date('2026-02-03T09:05:00Z') });
  checkSource(built.raw);
  return simpleParser(built.raw);
}

describe('buildMime', () => {
  it('writes the headers in order and a multipart/alternative body a reader decodes as given', async () => {
    const message = email({ replyTo: 'support@baton.example' });
    const built = buildMime(message, { date: new Date('2026-02-03T09:05:00Z') });
    expect(built.envelope).toEqual({ from: 'news@baton.example', to: ['ada@example.test'] });
    expect(built.messageId).toBe(`<${ID}@baton.example>`);
    const { headers } = checkSource(built.raw);
    expect(headers.map((line) => line.split(':')[0])).toEqual([
      'Message-ID',
      'Date',
      'From',
      'To',
      'Reply-To',
      'Subject',
      'MIME-Version',
      'List-Unsubscribe',
      'List-Unsubscribe-Post',
      'Content-Type',
      ' boundary="=_0c3a1b2c-1111-4222-8333-444455556666"',
    ]);
    expect(headers).toContain('Date: Tue, 03 Feb 2026 09:05:00 +0000');
    expect(headers).toContain('From: Baton News <news@baton.example>');
    expect(headers).toContain('List-Unsubscribe-Post: List-Unsubscribe=One-Click');

    const parsed = await simpleParser(built.raw);
    expect(parsed.messageId).toBe(`<${ID}@baton.example>`);
    expect(parsed.date?.toISOString()).toBe('2026-02-03T09:05:00.000Z');
    expect(parsed.subject).toBe(message.subject);
    expect(single(parsed.from)).toEqual({ name: 'Baton News', address: 'news@baton.example' });
    expect(single(parsed.to)).toEqual({ name: 'Ada Lovelace', address: 'ada@example.test' });
    expect(single(parsed.replyTo)).toEqual({ name: '', address: 'support@baton.example' });
    expect(parsed.html).toBe(message.html);
    expect(parsed.text).toBe(message.text);
    expect(parsed.headers.get('list')).toMatchObject({
      unsubscribe: { url: `https://baton.example/u/${ID}` },
    });
  });

  it('builds the same source for the same message and date', () => {
    const date = new Date('2026-02-03T09:05:00Z');
    expect(buildMime(email(), { date }).raw.equals(buildMime(email(), { date }).raw)).toBe(true);
  });

  it('encodes non-ASCII subjects and names, and quotes names with specials', async () => {
    const cases = [
      {
        subject: 'Soldes d’été : -20 % sur les crèmes brûlées',
        name: 'Zoë Café',
        address: 'zoe@example.test',
      },
      { subject: 'Party time 🎉🎈 for everyone 👩‍👩‍👧', name: 'Party 🎉 Team', address: 'party@example.test' },
      { subject: '春のセール：全品20%オフ、今週末まで', name: '山田 太郎', address: 'taro@example.test' },
      { subject: 'Plain ASCII', name: 'Quoted, Name', address: 'quoted@example.test' },
      {
        subject: 'A name folded inside its quotes',
        name: 'The Spring, Summer and Autumn Sales Department of a Company with a Long Name',
        address: 'sales@example.test',
      },
      {
        subject: 'Looks =?UTF-8?Q?encoded?= but is not',
        name: 'O\'Brien "Bob" \\ Co.',
        address: 'bob@example.test',
      },
    ];
    for (const { subject, name, address } of cases) {
      const parsed = await roundTrip(
        email({
          subject,
          from: `"${name.replace(/[\\"]/g, '\\$&')}" <${address}>`,
          to: `${name} <${address}>`,
        }),
      );
      expect(parsed.subject).toBe(subject);
      expect(single(parsed.from)).toEqual({ name, address });
    }
    const quoted = buildMime(email({ from: '"Quoted, Name" <q@example.test>' })).raw.toString();
    expect(quoted).toMatch(/^From: "Quoted, Name" <q@example\.test>\r$/m);
    const accented = buildMime(email({ from: 'Zoë <zoe@example.test>' })).raw.toString();
    expect(accented).toMatch(/^From: =\?UTF-8\?[BQ]\?[^?]+\?= <zoe@example\.test>\r$/m);
  });

  it('folds a long subject into encoded-words of at most 75 characters, whole characters each', async () => {
    const subjects = [
      `${'Spring sale on everything in the shop, '.repeat(6)}until Sunday`,
      'é'.repeat(120),
      '日本語'.repeat(40),
      '🎉'.repeat(60),
      `${'x'.repeat(1200)} and a word`,
    ];
    for (const subject of subjects) {
      const built = buildMime(email({ subject }));
      const { headers } = checkSource(built.raw);
      const subjectLines = headers.slice(headers.findIndex((line) => line.startsWith('Subject:')));
      for (const word of subjectLines.join('').match(/=\?[^?]+\?[BQ]\?[^?]*\?=/g) ?? []) {
        expect(word.length).toBeLessThanOrEqual(75);
        // Each word decodes on its own: no UTF-8 sequence is cut between two.
        const payload = word.slice(10, -2);
        const bytes =
          word[8] === 'B' ? Buffer.from(payload, 'base64') : Buffer.from(qDecode(payload), 'latin1');
        expect(bytes.toString('utf8')).not.toContain('\uFFFD');
      }
      expect((await simpleParser(built.raw)).subject).toBe(subject);
    }
  });

  it('encodes bodies in quoted-printable: long lines, = signs, trailing spaces, leading dots, CRLF or LF', async () => {
    const html = [
      `<p style="margin:0">${'A long line of HTML with = signs and spaces '.repeat(8)}</p>`,
      'a=b==c===d',
      'trailing space   ',
      'trailing tab\t',
      '.a line starting with a dot',
      '.',
      '..',
      `${'y'.repeat(74)}=z`,
      `${'y'.repeat(73)}é${'y'.repeat(10)}`,
      'a lone CR\rin the middle',
      'crlf line\r\nlf line\nlast line without a break',
    ].join('\n');
    const text = 'Line one\r\nLine two \r\n.\r\n\r\nLast line, with a final break\n';
    const parsed = await roundTrip(email({ html, text }));
    expect(parsed.html).toBe(asRead(html));
    expect(parsed.text).toBe(asRead(text));
  });

  it('writes the HTML part alone when there is no text', async () => {
    const built = buildMime(email({ text: '' }));
    const { headers } = checkSource(built.raw);
    expect(headers).toContain('Content-Type: text/html; charset=utf-8');
    expect(headers).toContain('Content-Transfer-Encoding: quoted-printable');
    expect(built.raw.toString()).not.toContain('multipart');
    expect((await simpleParser(built.raw)).html).toBe(email().html);
  });

  it('derives the Message-ID from the ledger id and the sender domain when the headers have none', () => {
    const built = buildMime(email({ headers: {} }));
    expect(built.messageId).toBe(`<${ID}@baton.example>`);
    expect(built.raw.toString()).toMatch(new RegExp(`^Message-ID: <${ID}@baton\\.example>\\r$`, 'm'));
  });

  it('keeps line breaks in header values from starting headers of their own', async () => {
    const built = buildMime(
      email({
        subject: 'Hello\r\nBcc: victim@example.test',
        headers: { 'X-Campaign': 'spring\nBcc: other@example.test' },
      }),
    );
    checkSource(built.raw);
    const parsed = await simpleParser(built.raw);
    expect(parsed.bcc).toBeUndefined();
    expect(parsed.subject).toBe('Hello Bcc: victim@example.test');
    expect(parsed.headers.get('x-campaign')).toBe('spring Bcc: other@example.test');
  });

  it('puts international domains in punycode and refuses non-ASCII local parts', async () => {
    const built = buildMime(email({ from: 'Bücher <news@bücher.example>', to: 'ada@Bücher.example' }));
    expect(built.envelope).toEqual({ from: 'news@xn--bcher-kva.example', to: ['ada@xn--bcher-kva.example'] });
    expect(built.raw.toString()).toMatch(/^To: ada@xn--bcher-kva\.example\r$/m);
    expect(single((await simpleParser(built.raw)).to).address).toBe('ada@bücher.example');

    const refused = () => buildMime(email({ to: 'Jöhn <jöhn@example.test>' }));
    expect(refused).toThrow(MimeError);
    expect(refused).toThrow(/To address "jöhn@example\.test" has non-ASCII characters before the @/);
    expect(() => buildMime(email({ from: 'émile@example.test' }))).toThrow(
      expect.objectContaining({ name: 'MimeError', header: 'From' }) as Error,
    );
  });

  it('refuses malformed addresses and headers it writes itself', () => {
    for (const to of [
      'not an address',
      'ada@',
      '@example.test',
      'a,b@example.test',
      'ada@exa mple.test',
      'Ada <ada@example.test',
    ]) {
      expect(() => buildMime(email({ to })), to).toThrow(expect.objectContaining({ header: 'To' }) as Error);
    }
    expect(() => buildMime(email({ headers: { Subject: 'again' } }))).toThrow(
      /Subject header is written from/,
    );
    expect(() => buildMime(email({ headers: { 'Bad Name': 'x' } }))).toThrow(/not a header name/);
  });

  it('round-trips a few hundred random Unicode subjects and bodies through a MIME parser', async () => {
    const random = mulberry32(20260203);
    const pick = <T>(items: readonly T[]): T => items[Math.floor(random() * items.length)]!;
    const pieces = [
      ...'abcdefghijklmnopqrstuvwxyz ABCXYZ0123456789',
      ...'  =._-?!"\'\\<>()[],;:@#%&*+/~^`|{}',
      '\t',
      '=?',
      '?=',
      ...'éèàçüößñøåæœ€£',
      ...'日本語中文한국어',
      '🎉',
      '👩‍👩‍👧',
      '\u{1F600}',
      '\u00a0',
      '\u200b',
    ];
    const string = (length: number, breaks: readonly string[]) =>
      Array.from({ length }, () => (random() < 0.04 ? pick(breaks) : pick(pieces))).join('');
    for (let i = 0; i < 300; i++) {
      const subject = string(1 + Math.floor(random() * 120), [' ']);
      const html = string(1 + Math.floor(random() * 400), ['\n', '\r\n', ' \n', '.\n', '\n.']);
      const text = random() < 0.2 ? '' : string(Math.floor(random() * 200), ['\n', '\r\n']);
      const name = string(1 + Math.floor(random() * 30), [' ']).trim() || 'x';
      const message = email({
        subject,
        html,
        text,
        from: `"${name.replace(/[\\"]/g, '\\$&')}" <news@baton.example>`,
      });
      const parsed = await roundTrip(message);
      expect(parsed.subject, JSON.stringify(subject)).toBe(subject);
      expect(parsed.html, JSON.stringify(html)).toBe(asRead(html));
      if (text !== '') expect(parsed.text, JSON.stringify(text)).toBe(asRead(text));
      expect(single(parsed.from).name, JSON.stringify(name)).toBe(name);
    }
  });
});

/** A seeded PRNG, so a failing case comes back on every run. */
function mulberry32(seed: number): () => number {
  let state = seed;
  return () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), 1 | state);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function qDecode(payload: string): string {
  return payload
    .replace(/_/g, ' ')
    .replace(/=([0-9A-F]{2})/g, (_, hex: string) => String.fromCharCode(parseInt(hex, 16)));
}
