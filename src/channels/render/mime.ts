import { domainToASCII } from 'node:url';
import type { OutgoingEmail } from '../types.ts';

/**
 * The RFC 5322 / MIME source of an email, written directly: composing it through nodemailer's general
 * MIME tree costs about a millisecond a message, most of what sending one costs, while Baton's messages
 * always have the same shape. That shape is a multipart/alternative of a text/plain and a text/html part,
 * both UTF-8 in quoted-printable (the HTML part alone when there is no text). Every line is 7-bit ASCII:
 * non-ASCII header text goes in RFC 2047 encoded-words and international domains in punycode, so no server
 * on the way needs SMTPUTF8 or 8BITMIME.
 */
export interface BuiltMime {
  raw: Buffer;
  /** The bare addresses of the SMTP envelope (MAIL FROM, RCPT TO). */
  envelope: { from: string; to: string[] };
  /** The Message-ID header written, with its angle brackets. */
  messageId: string;
}

/** A message that cannot be written: a malformed or non-ASCII address, or a header that cannot be sent. */
export class MimeError extends Error {
  constructor(
    message: string,
    /** The header at fault: `From`, `To`, `Reply-To` or the name of one of the given headers. */
    readonly header: string,
  ) {
    super(message);
    this.name = 'MimeError';
  }
}

/** RFC 5322 §2.1.1: lines SHOULD stay within 78 characters and MUST stay within 998. */
const LINE_LENGTH = 78;
const HARD_LINE_LENGTH = 998;
/** RFC 2047 §2: an encoded-word is at most 75 characters, `=?UTF-8?B?` and `?=` included. */
const ENCODED_WORD_LENGTH = 75;
const ENCODED_WORD_OVERHEAD = '=?UTF-8?B?'.length + '?='.length;
/**
 * RFC 2045 §6.7 rule 5: encoded lines are at most 76 characters; one that goes on after a soft line break
 * keeps the last of them for its `=`.
 */
const QP_LINE_CONTENT = 75;

/** Written by buildMime from the message's fields; the same names among the given headers would repeat them. */
const BUILT_HEADERS = new Set([
  'from',
  'to',
  'reply-to',
  'subject',
  'date',
  'mime-version',
  'content-type',
  'content-transfer-encoding',
]);

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const DOT = 0x2e;
const EQUALS = 0x3d;
const HEX_DIGITS = Buffer.from('0123456789ABCDEF', 'latin1');

/**
 * Bytes that stand for themselves in a Q encoded-word: the set RFC 2047 §5(3) allows in a display name,
 * used for every header so one table serves both (space is written `_`).
 */
const Q_LITERAL = new Uint8Array(256);
for (const character of 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789!*+-/') {
  Q_LITERAL[character.charCodeAt(0)] = 1;
}

/** A token that a reader would decode as an RFC 2047 encoded-word, turning literal text into other text. */
const LOOKS_ENCODED = /=\?[^?\s]*\?[bq]\?[^?\s]*\?=/i;
/** Header text that cannot be written as it is: not printable ASCII (tab aside). */
const NOT_PRINTABLE = /[^\t\x20-\x7e]/;
/** A word too long for a header line even alone on it: only encoded-words can be cut. */
const UNBREAKABLE_LENGTH = HARD_LINE_LENGTH - 20;
const UNBREAKABLE = new RegExp(`[^\\t ]{${UNBREAKABLE_LENGTH},}`);
/** Readers trim a header's value: encoded, its outer spaces are kept. */
const EDGE_SPACE = /^[\t ]|[\t ]$/;
/** RFC 5322 atext: a display name made of these and single spaces needs no quotes. */
const PLAIN_PHRASE = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(?: [A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$/;
/** An unquoted local part: atext and dots (dots anywhere, as some providers' mailboxes still have). */
const LOCAL_ATOMS = /^[A-Za-z0-9!#$%&'*+/=?^_`{|}~.-]+$/;
const LOCAL_QUOTED = /^"(?:[\x20\x21\x23-\x5b\x5d-\x7e]|\\[\x20-\x7e])*"$/;
const ASCII_DOMAIN = /^[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*$/;
const DOMAIN_LITERAL = /^\[[\x21-\x5a\x5e-\x7e]+\]$/;
const NON_ASCII = /[\u0080-\uffff]/;
/** RFC 5322 §3.6.8: a field name is printable ASCII without the colon. */
const FIELD_NAME = /^[\x21-\x39\x3b-\x7e]+$/;
const LINE_BREAKS = /[\r\n]+/g;

interface Mailbox {
  /** The display name, unquoted; empty when there is none. */
  name: string;
  /** The address as SMTP and the header carry it: ASCII, the domain in punycode. */
  address: string;
}

/** Parses `addr@x`, `Display Name <addr@x>` or `"Quoted, Name" <addr@x>`. */
function parseMailbox(value: string, header: string): Mailbox {
  const text = value.replace(LINE_BREAKS, ' ').trim();
  if (!text.endsWith('>')) return { name: '', address: addressOf(text, header) };
  const open = text.lastIndexOf('<');
  if (open < 0) {
    throw new MimeError(
      `${header} "${text}" has a ">" without its "<": write Name <name@example.com>.`,
      header,
    );
  }
  let name = text.slice(0, open).trim();
  if (name.length >= 2 && name.startsWith('"') && name.endsWith('"')) {
    name = name.slice(1, -1).replace(/\\(.)/g, '$1');
  }
  return { name, address: addressOf(text.slice(open + 1, -1).trim(), header) };
}

function addressOf(spec: string, header: string): string {
  const at = spec.lastIndexOf('@');
  if (at <= 0 || at === spec.length - 1) {
    throw new MimeError(
      `${header} address "${spec}" is not an address: it should look like name@example.com.`,
      header,
    );
  }
  const local = spec.slice(0, at);
  const domain = spec.slice(at + 1);
  if (NON_ASCII.test(local)) {
    throw new MimeError(
      `${header} address "${spec}" has non-ASCII characters before the @, which only servers offering SMTPUTF8 accept; Baton sends ASCII addresses (international domains are converted).`,
      header,
    );
  }
  if (!LOCAL_ATOMS.test(local) && !LOCAL_QUOTED.test(local)) {
    throw new MimeError(
      `${header} address "${spec}" is malformed: the part before the @ has spaces or characters such as , ; < > that an address cannot hold.`,
      header,
    );
  }
  if (ASCII_DOMAIN.test(domain) || DOMAIN_LITERAL.test(domain)) return spec;
  // domainToASCII answers '' for what is not a domain; an ASCII domain that failed the test above is not one.
  const ascii = NON_ASCII.test(domain) ? domainToASCII(domain) : '';
  if (ascii === '') {
    throw new MimeError(`${header} address "${spec}" has an invalid domain "${domain}".`, header);
  }
  return `${local}@${ascii}`;
}

/** A mailbox as an address header's value: the name plain, quoted or encoded, then the address. */
function mailboxField(header: string, mailbox: Mailbox): string {
  const { name, address } = mailbox;
  const prefix = `${header}: `;
  if (name === '') return prefix + address;
  let phrase: string;
  if (NOT_PRINTABLE.test(name) || LOOKS_ENCODED.test(name)) {
    phrase = encodedWords(name, LINE_LENGTH - prefix.length);
  } else if (PLAIN_PHRASE.test(name)) {
    phrase = name;
  } else {
    phrase = `"${name.replace(/[\\"]/g, '\\$&')}"`;
  }
  return fold(`${prefix}${phrase} <${address}>`, prefix.length);
}

/** An unstructured header (Subject, List-Unsubscribe…): as it is when that can be sent, else encoded-words. */
function textField(header: string, value: string): string {
  const text = value.replace(LINE_BREAKS, ' ');
  const prefix = `${header}: `;
  const encode =
    NOT_PRINTABLE.test(text) ||
    LOOKS_ENCODED.test(text) ||
    EDGE_SPACE.test(text) ||
    (text.length > UNBREAKABLE_LENGTH && UNBREAKABLE.test(text));
  return fold(prefix + (encode ? encodedWords(text, LINE_LENGTH - prefix.length) : text), prefix.length);
}

/**
 * Folds a header line before whitespace so its lines stay within 78 characters where words allow. A fold
 * goes before the first of a run of spaces, never between them: a continuation line of spaces only would
 * be ambiguous (RFC 5322 §3.2.2), and unfolding (removing the CRLF) gives back the exact value.
 */
function fold(line: string, valueStart: number): string {
  if (line.length <= LINE_LENGTH) return line;
  let folded = '';
  let start = 0;
  let earliest = valueStart + 1;
  while (line.length - start > LINE_LENGTH) {
    let cut = -1;
    for (let i = start + LINE_LENGTH; i >= earliest; i--) {
      if (isFoldPoint(line, i)) {
        cut = i;
        break;
      }
    }
    // A word longer than a line: fold after it instead.
    if (cut < 0) {
      for (let i = start + LINE_LENGTH + 1; i < line.length; i++) {
        if (isFoldPoint(line, i)) {
          cut = i;
          break;
        }
      }
    }
    if (cut < 0) break;
    folded += `${line.slice(start, cut)}\r\n`;
    start = cut;
    earliest = cut + 1;
  }
  return folded + line.slice(start);
}

/** The start of a run of whitespace that has a word after it. */
function isFoldPoint(line: string, index: number): boolean {
  if (!isWhitespace(line.charCodeAt(index)) || isWhitespace(line.charCodeAt(index - 1))) return false;
  let next = index + 1;
  while (next < line.length && isWhitespace(line.charCodeAt(next))) next++;
  return next < line.length;
}

function isWhitespace(code: number): boolean {
  return code === SPACE || code === TAB;
}

/**
 * Text as RFC 2047 encoded-words separated by spaces, which a reader drops between adjacent words (§6.2),
 * so the decoded text is exactly the given one. Q when it is shorter (mostly Latin text, still readable),
 * B otherwise. A word ends on a character boundary, never inside a UTF-8 sequence (§5), and the first one
 * fits in the `firstLineRoom` characters that the header's name leaves on its first line.
 */
function encodedWords(text: string, firstLineRoom: number): string {
  const bytes = Buffer.from(text, 'utf8');
  let qLength = 0;
  for (const byte of bytes) qLength += Q_LITERAL[byte] === 1 || byte === SPACE ? 1 : 3;
  const useQ = qLength <= Math.ceil(bytes.length / 3) * 4;
  const payloadRoom = (room: number) => {
    const chars = Math.max(room, 16) - ENCODED_WORD_OVERHEAD;
    // B encodes 3 bytes in 4 characters: a word holds whole groups.
    return useQ ? chars : Math.floor(chars / 4) * 3;
  };
  const words: string[] = [];
  let room = payloadRoom(firstLineRoom);
  let wordStart = 0;
  let used = 0;
  let i = 0;
  while (i < bytes.length) {
    const lead = bytes[i]!;
    const length = lead < 0x80 ? 1 : lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : 2;
    let cost = length;
    if (useQ) {
      cost = 0;
      for (let j = i; j < i + length; j++) cost += Q_LITERAL[bytes[j]!] === 1 || bytes[j] === SPACE ? 1 : 3;
    }
    if (used + cost > room && i > wordStart) {
      words.push(encodedWord(bytes.subarray(wordStart, i), useQ));
      wordStart = i;
      used = 0;
      room = payloadRoom(ENCODED_WORD_LENGTH);
    }
    used += cost;
    i += length;
  }
  words.push(encodedWord(bytes.subarray(wordStart), useQ));
  return words.join(' ');
}

function encodedWord(bytes: Buffer, useQ: boolean): string {
  if (!useQ) return `=?UTF-8?B?${bytes.toString('base64')}?=`;
  let payload = '';
  for (const byte of bytes) {
    if (Q_LITERAL[byte] === 1) payload += String.fromCharCode(byte);
    else if (byte === SPACE) payload += '_';
    else payload += `=${String.fromCharCode(HEX_DIGITS[byte >> 4]!, HEX_DIGITS[byte & 15]!)}`;
  }
  return `=?UTF-8?Q?${payload}?=`;
}

/** RFC 5322 §3.3 date-time, in UTC: `Tue, 03 Feb 2026 09:05:00 +0000`. */
function dateField(date: Date): string {
  // toUTCString has this exact layout (ECMA-262 §21.4.4.43), with the obsolete zone name GMT.
  return `Date: ${date.toUTCString().slice(0, -3)}+0000`;
}

/** The boundary: `=_` never occurs in quoted-printable, so no line of a part can be mistaken for it. */
function boundaryOf(messageId: string): string {
  return `=_${messageId.replace(/[^A-Za-z0-9'()+,./:?_-]/g, '_').slice(0, 60)}`;
}

/** How quoted-printable writes each ASCII character (QP_CLASS). */
const QP_LITERAL = 0;
const QP_ESCAPED = 1;
/** Literal, except at the end of a line (rule 3). */
const QP_WHITESPACE = 2;
const QP_LINE_FEED = 3;
const QP_CARRIAGE_RETURN = 4;
/** Literal, except at the start of a line. */
const QP_DOT = 5;
const QP_CLASS = new Uint8Array(128).fill(QP_ESCAPED);
for (let code = 33; code <= 126; code++) QP_CLASS[code] = QP_LITERAL;
QP_CLASS[EQUALS] = QP_ESCAPED;
QP_CLASS[SPACE] = QP_WHITESPACE;
QP_CLASS[TAB] = QP_WHITESPACE;
QP_CLASS[LF] = QP_LINE_FEED;
QP_CLASS[CR] = QP_CARRIAGE_RETURN;
QP_CLASS[DOT] = QP_DOT;

/** The UTF-8 bytes of the character being escaped. */
const CHARACTER_BYTES = new Uint8Array(4);

/**
 * Quoted-printable (RFC 2045 §6.7) of the UTF-8 form of `text`, written into `out` from `pos`; returns
 * where it ended. It reads the string's UTF-16 code units and makes the UTF-8 bytes of the rare non-ASCII
 * characters itself (a lone surrogate as U+FFFD, as Buffer.from does), which saves converting the whole
 * body to a Buffer first. CRLF and lone LF become CRLF line breaks; a lone CR is encoded. A `.` starting
 * a line is encoded too: SMTP dot-stuffing would cope, but a lone `.` line then survives any relay or pipe
 * that forgets it, for two bytes on a few lines.
 */
function writeQuotedPrintable(text: string, out: Buffer, pos: number): number {
  let column = 0;
  const length = text.length;
  for (let i = 0; i < length; i++) {
    let code = text.charCodeAt(i);
    // Most of a body: printable ASCII, tested first.
    if (code < 0x80 && QP_CLASS[code] === QP_LITERAL) {
      if (column === QP_LINE_CONTENT) {
        out[pos++] = EQUALS;
        out[pos++] = CR;
        out[pos++] = LF;
        column = 0;
      }
      out[pos++] = code;
      column++;
      continue;
    }
    let count = 1;
    if (code < 0x80) {
      const kind = QP_CLASS[code];
      let literal = false;
      if (kind === QP_LINE_FEED || (kind === QP_CARRIAGE_RETURN && text.charCodeAt(i + 1) === LF)) {
        if (kind === QP_CARRIAGE_RETURN) i++;
        out[pos++] = CR;
        out[pos++] = LF;
        column = 0;
        continue;
      } else if (kind === QP_WHITESPACE) {
        // Whitespace ending a line is taken for a transport's padding and dropped by readers.
        const next = text.charCodeAt(i + 1);
        literal = i + 1 < length && next !== LF && !(next === CR && text.charCodeAt(i + 2) === LF);
      } else if (kind === QP_DOT) {
        literal = column !== 0 && column < QP_LINE_CONTENT;
      }
      if (literal) {
        if (column === QP_LINE_CONTENT) {
          out[pos++] = EQUALS;
          out[pos++] = CR;
          out[pos++] = LF;
          column = 0;
        }
        out[pos++] = code;
        column++;
        continue;
      }
      CHARACTER_BYTES[0] = code;
    } else if (code < 0x800) {
      CHARACTER_BYTES[0] = 0xc0 | (code >> 6);
      CHARACTER_BYTES[1] = 0x80 | (code & 0x3f);
      count = 2;
    } else if (code >= 0xd800 && code <= 0xdbff && (text.charCodeAt(i + 1) & 0xfc00) === 0xdc00) {
      code = 0x10000 + ((code - 0xd800) << 10) + (text.charCodeAt(++i) - 0xdc00);
      CHARACTER_BYTES[0] = 0xf0 | (code >> 18);
      CHARACTER_BYTES[1] = 0x80 | ((code >> 12) & 0x3f);
      CHARACTER_BYTES[2] = 0x80 | ((code >> 6) & 0x3f);
      CHARACTER_BYTES[3] = 0x80 | (code & 0x3f);
      count = 4;
    } else {
      if (code >= 0xd800 && code <= 0xdfff) code = 0xfffd;
      CHARACTER_BYTES[0] = 0xe0 | (code >> 12);
      CHARACTER_BYTES[1] = 0x80 | ((code >> 6) & 0x3f);
      CHARACTER_BYTES[2] = 0x80 | (code & 0x3f);
      count = 3;
    }
    for (let k = 0; k < count; k++) {
      // An escape is never cut by a soft line break.
      if (column > QP_LINE_CONTENT - 3) {
        out[pos++] = EQUALS;
        out[pos++] = CR;
        out[pos++] = LF;
        column = 0;
      }
      const byte = CHARACTER_BYTES[k]!;
      out[pos++] = EQUALS;
      out[pos++] = HEX_DIGITS[byte >> 4]!;
      out[pos++] = HEX_DIGITS[byte & 15]!;
      column += 3;
    }
  }
  return pos;
}

/** The most bytes quoted-printable makes of `text`: 3 per UTF-8 byte, plus a soft break per 73 at most. */
function quotedPrintableBound(text: string): number {
  const bytes = Buffer.byteLength(text, 'utf8');
  return 3 * bytes + 3 * (Math.floor(bytes / 24) + 1);
}

const PART_HEADERS = (type: 'plain' | 'html') =>
  `Content-Type: text/${type}; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n`;
const TEXT_PART_HEADERS = PART_HEADERS('plain');
const HTML_PART_HEADERS = PART_HEADERS('html');

/**
 * One buffer the message is written into before its exact-size copy is returned, so a message costs no
 * allocation of its worst-case size. Messages whose bound exceeds the cap get one of their own, so a rare
 * huge one does not keep its size in memory for good.
 */
const SCRATCH_CAP = 1024 * 1024;
let scratch = Buffer.allocUnsafe(64 * 1024);

function workBuffer(bound: number): Buffer {
  if (bound <= scratch.length) return scratch;
  if (bound > SCRATCH_CAP) return Buffer.allocUnsafe(bound);
  scratch = Buffer.allocUnsafe(Math.min(SCRATCH_CAP, Math.max(bound, scratch.length * 2)));
  return scratch;
}

/** The source of an email and its envelope, ready for `sendMail({ envelope, raw })`. */
export function buildMime(message: OutgoingEmail, options: { date?: Date } = {}): BuiltMime {
  const from = parseMailbox(message.from, 'From');
  const to = parseMailbox(message.to, 'To');
  const replyTo = message.replyTo ? parseMailbox(message.replyTo, 'Reply-To') : undefined;

  let messageId: string | undefined;
  let extra = '';
  for (const [name, value] of Object.entries(message.headers)) {
    const lower = name.toLowerCase();
    if (lower === 'message-id') {
      messageId = value.replace(LINE_BREAKS, '').trim();
    } else if (!FIELD_NAME.test(name)) {
      throw new MimeError(`"${name}" is not a header name: it must be printable ASCII without ":".`, name);
    } else if (BUILT_HEADERS.has(lower)) {
      throw new MimeError(
        `The ${name} header is written from the message's fields; remove it from headers.`,
        name,
      );
    } else {
      extra += `${textField(name, value)}\r\n`;
    }
  }
  messageId ||= `<${message.messageId}@${from.address.slice(from.address.lastIndexOf('@') + 1)}>`;
  if (NOT_PRINTABLE.test(messageId)) {
    throw new MimeError(`Message-ID ${messageId} is not printable ASCII.`, 'Message-ID');
  }

  let head =
    `Message-ID: ${messageId}\r\n${dateField(options.date ?? new Date())}\r\n` +
    `${mailboxField('From', from)}\r\n${mailboxField('To', to)}\r\n`;
  if (replyTo) head += `${mailboxField('Reply-To', replyTo)}\r\n`;
  head += `${textField('Subject', message.subject)}\r\nMIME-Version: 1.0\r\n${extra}`;

  const { html, text } = message;
  let boundary = '';
  if (text) {
    boundary = boundaryOf(message.messageId);
    head +=
      `${fold(`Content-Type: multipart/alternative; boundary="${boundary}"`, 'Content-Type: '.length)}\r\n\r\n` +
      `--${boundary}\r\n${TEXT_PART_HEADERS}`;
  } else {
    head += HTML_PART_HEADERS;
  }

  const bound =
    head.length +
    quotedPrintableBound(html) +
    (text ? quotedPrintableBound(text) + HTML_PART_HEADERS.length + 2 * boundary.length + 16 : 0);
  const out = workBuffer(bound);
  let pos = out.write(head, 0, 'latin1');
  if (text) {
    pos = writeQuotedPrintable(text, out, pos);
    pos += out.write(`\r\n--${boundary}\r\n${HTML_PART_HEADERS}`, pos, 'latin1');
    pos = writeQuotedPrintable(html, out, pos);
    pos += out.write(`\r\n--${boundary}--\r\n`, pos, 'latin1');
  } else {
    pos = writeQuotedPrintable(html, out, pos);
  }
  return {
    raw: Buffer.from(out.subarray(0, pos)),
    envelope: { from: from.address, to: [to.address] },
    messageId,
  };
}
