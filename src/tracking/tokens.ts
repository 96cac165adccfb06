import { createHmac } from 'node:crypto';
import { systemClock, type Clock } from '../engine/clock.ts';
import { HmacSha256 } from './hmac-sha256.ts';

/**
 * Signed tracking tokens: what the open pixel, tracked links and unsubscribe links carry. A token names a
 * message (and, for a click, the index of the link in that message) and nothing else: the click endpoint
 * redirects to the link the ledger stored for that message and index, never to a URL taken from the
 * request, so a token cannot be turned into an open redirect.
 *
 * Layout (then base64url, no padding):
 *
 *   version (1 byte) · key id (1 byte) · kind (1 byte) · message id (16 bytes, the UUID's bytes)
 *   · link index (unsigned LEB128 varint, clicks only) · MAC (16 bytes)
 *
 * The MAC is HMAC-SHA256 over every byte before it, truncated to 16 bytes: 128 bits leave a forger one
 * chance in 2^128 per guess, and each guess costs an HTTP request, while the token stays short enough
 * for SMS links (47 characters for an open, 48 for a click). Truncating HMAC output is allowed by
 * RFC 2104 §5 and NIST SP 800-107 above 64 bits.
 */
export type TokenKind = 'open' | 'click' | 'unsubscribe';

export type TokenPayload =
  { kind: 'open' | 'unsubscribe'; messageId: string } | { kind: 'click'; messageId: string; link: number };

export interface SigningKey {
  /** 0–255: written in every token so that verification knows which key signed it. */
  id: number;
  secret: string;
}

export interface RetiredKey extends SigningKey {
  /** When the key stopped signing; its tokens verify until this plus the grace period. */
  retiredAt: Date;
}

export interface Keyring {
  current: SigningKey;
  previous: RetiredKey[];
}

/** Links in messages sent before a rotation keep working this long (a newsletter read weeks later). */
export const DEFAULT_GRACE_MS = 90 * 24 * 60 * 60 * 1000;

const VERSION = 1;
const KINDS: readonly TokenKind[] = ['open', 'click', 'unsubscribe'];
const HEADER_BYTES = 3;
const UUID_BYTES = 16;
const MAC_BYTES = 16;
/** Four varint bytes: 2^28 links in one message is far beyond any real message. */
const MAX_VARINT_BYTES = 4;
export const MAX_LINK_INDEX = 2 ** (7 * MAX_VARINT_BYTES) - 1;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** Longer than any token this code makes: refuse before decoding whatever a client sends. */
const MAX_TOKEN_CHARS = 64;
const BASE64URL_ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
/** Each character code's 6-bit value; -1 for anything outside the base64url alphabet. */
const SEXTETS = new Int8Array(128).fill(-1);
for (let i = 0; i < BASE64URL_ALPHABET.length; i++) SEXTETS[BASE64URL_ALPHABET.charCodeAt(i)] = i;
const HEX = Array.from({ length: 256 }, (_, byte) => byte.toString(16).padStart(2, '0'));

interface VerifyingKey {
  mac: HmacSha256;
  /** Epoch ms after which the key's tokens are refused; Infinity for the current key. */
  validUntil: number;
}

export class TokenSigner {
  private readonly currentId: number;
  private readonly keys = new Map<number, VerifyingKey>();
  private readonly clock: Clock;
  /** Where verify decodes a token: the longest one allowed fits. */
  private readonly decoded = new Uint8Array(Math.ceil((MAX_TOKEN_CHARS * 3) / 4));

  constructor(keyring: Keyring, options: { graceMs?: number; clock?: Clock } = {}) {
    const graceMs = options.graceMs ?? DEFAULT_GRACE_MS;
    this.clock = options.clock ?? systemClock;
    this.currentId = keyring.current.id;
    this.addKey(keyring.current, Infinity);
    for (const key of keyring.previous) this.addKey(key, key.retiredAt.getTime() + graceMs);
  }

  private addKey(key: SigningKey, validUntil: number): void {
    if (!Number.isInteger(key.id) || key.id < 0 || key.id > 255) {
      throw new Error(`signing key id ${key.id} is not a whole number from 0 to 255`);
    }
    if (this.keys.has(key.id)) throw new Error(`two signing keys have the id ${key.id}`);
    this.keys.set(key.id, { mac: new HmacSha256(macKey(key.secret)), validUntil });
  }

  sign(payload: TokenPayload): string {
    if (!UUID.test(payload.messageId)) throw new Error(`message id "${payload.messageId}" is not a UUID`);
    const body = [VERSION, this.currentId, KINDS.indexOf(payload.kind) + 1];
    body.push(...Buffer.from(payload.messageId.replaceAll('-', ''), 'hex'));
    if (payload.kind === 'click') {
      if (!Number.isInteger(payload.link) || payload.link < 0 || payload.link > MAX_LINK_INDEX) {
        throw new Error(`link index ${payload.link} is out of range`);
      }
      body.push(...encodeVarint(payload.link));
    }
    const bytes = Buffer.from(body);
    const mac = this.keys.get(this.currentId)!.mac.digest(bytes).subarray(0, MAC_BYTES);
    return Buffer.concat([bytes, mac]).toString('base64url');
  }

  /**
   * The payload of a genuine token, or null for anything else (never an exception: tokens come from anyone).
   * Every tracking request starts here, so it decodes into a buffer of its own and allocates little.
   */
  verify(token: string): TokenPayload | null {
    const bytes = decodeToken(token, this.decoded);
    if (!bytes || bytes.length < HEADER_BYTES + UUID_BYTES + MAC_BYTES || bytes[0] !== VERSION) return null;
    const key = this.keys.get(bytes[1]!);
    if (!key || this.clock.now() > key.validUntil) return null;
    const kind = KINDS[bytes[2]! - 1];
    if (!kind) return null;
    let end = HEADER_BYTES + UUID_BYTES;
    let link: number | undefined;
    if (kind === 'click') {
      const varint = decodeVarint(bytes, end);
      if (!varint) return null;
      link = varint.value;
      end = varint.end;
    }
    if (bytes.length !== end + MAC_BYTES) return null;
    if (!key.mac.verify(bytes.subarray(0, end), bytes.subarray(end))) return null;
    const messageId = formatUuid(bytes, HEADER_BYTES);
    return kind === 'click' ? { kind, messageId, link: link! } : { kind, messageId };
  }
}

/**
 * The secret is not used as the HMAC key directly: a key derived for this one purpose means that if
 * BATON_SECRET ever signs something else too, a signature made for one use is worthless for the other.
 */
function macKey(secret: string): Buffer {
  return createHmac('sha256', secret).update('baton tracking token v1').digest();
}

/**
 * The bytes of a base64url token (no padding) written into `into`, or null when it is too long, holds a
 * character outside the alphabet, or is not the one spelling our encoder makes: base64url can write the
 * same last byte several ways (the unused low bits of the last character), and only the spelling with
 * those bits zero is accepted.
 */
function decodeToken(token: string, into: Uint8Array): Uint8Array | null {
  const length = token.length;
  if (length === 0 || length > MAX_TOKEN_CHARS || length % 4 === 1) return null;
  let bits = 0;
  let held = 0;
  let out = 0;
  for (let i = 0; i < length; i++) {
    const code = token.charCodeAt(i);
    const sextet = code < 128 ? SEXTETS[code]! : -1;
    if (sextet < 0) return null;
    bits = ((bits << 6) | sextet) & 0xffffff;
    held += 6;
    if (held >= 8) {
      held -= 8;
      into[out++] = (bits >>> held) & 0xff;
    }
  }
  if ((bits & ((1 << held) - 1)) !== 0) return null;
  return into.subarray(0, out);
}

function encodeVarint(value: number): number[] {
  const out: number[] = [];
  let rest = value;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest >>>= 7;
  }
  out.push(rest);
  return out;
}

/** Only the shortest encoding is accepted, so every index has exactly one token. */
function decodeVarint(bytes: Uint8Array, start: number): { value: number; end: number } | null {
  let value = 0;
  for (let i = 0; i < MAX_VARINT_BYTES; i++) {
    const byte = bytes[start + i];
    if (byte === undefined) return null;
    value += (byte & 0x7f) * 2 ** (7 * i);
    if ((byte & 0x80) === 0) return byte === 0 && i > 0 ? null : { value, end: start + i + 1 };
  }
  return null;
}

/** The UUID whose 16 bytes start at `start`, in its usual lower-case form. */
function formatUuid(bytes: Uint8Array, start: number): string {
  let text = '';
  for (let i = 0; i < UUID_BYTES; i++) {
    if (i === 4 || i === 6 || i === 8 || i === 10) text += '-';
    text += HEX[bytes[start + i]!];
  }
  return text;
}
