import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { ManualClock } from '../../src/engine/clock.ts';
import { DEFAULT_GRACE_MS, TokenSigner, type Keyring, type TokenPayload } from '../../src/tracking/tokens.ts';

const MESSAGE = '0b6f2c1e-9a4d-8c3b-a2e1-5f7d9c0b1a2e';
const SECRET_A = 'a'.repeat(20) + 'secret-number-one-0123456789';
const SECRET_B = 'b'.repeat(20) + 'secret-number-two-0123456789';
const ring = (secret = SECRET_A, id = 0): Keyring => ({ current: { id, secret }, previous: [] });

function flipped(token: string, byte: number): string {
  const bytes = Buffer.from(token, 'base64url');
  bytes[byte]! ^= 0x01;
  return bytes.toString('base64url');
}

describe('TokenSigner', () => {
  const signer = new TokenSigner(ring());

  it('round-trips open, click and unsubscribe payloads', () => {
    const payloads: TokenPayload[] = [
      { kind: 'open', messageId: MESSAGE },
      { kind: 'unsubscribe', messageId: MESSAGE },
      { kind: 'click', messageId: MESSAGE, link: 0 },
      { kind: 'click', messageId: MESSAGE, link: 127 },
      { kind: 'click', messageId: MESSAGE, link: 128 },
      { kind: 'click', messageId: MESSAGE, link: 300_000 },
    ];
    for (const payload of payloads) {
      const token = signer.sign(payload);
      expect(token).toMatch(/^[A-Za-z0-9_-]+$/);
      expect(signer.verify(token)).toEqual(payload);
    }
  });

  it('makes short tokens (47 characters for an open, 48 for a small link index)', () => {
    expect(signer.sign({ kind: 'open', messageId: MESSAGE })).toHaveLength(47);
    expect(signer.sign({ kind: 'click', messageId: MESSAGE, link: 3 })).toHaveLength(48);
  });

  it('reports the kind a token is, so an open token is not taken for a click', () => {
    const open = signer.sign({ kind: 'open', messageId: MESSAGE });
    expect(signer.verify(open)?.kind).toBe('open');
    const unsubscribe = signer.sign({ kind: 'unsubscribe', messageId: MESSAGE });
    expect(signer.verify(unsubscribe)?.kind).toBe('unsubscribe');
  });

  it('refuses a token with any single bit flipped, in any byte', () => {
    for (const payload of [
      { kind: 'open', messageId: MESSAGE },
      { kind: 'click', messageId: MESSAGE, link: 200 },
    ] as TokenPayload[]) {
      const token = signer.sign(payload);
      const length = Buffer.from(token, 'base64url').length;
      for (let byte = 0; byte < length; byte++) expect(signer.verify(flipped(token, byte))).toBeNull();
    }
  });

  it('refuses truncated, extended, non-base64 and non-canonical tokens', () => {
    const token = signer.sign({ kind: 'click', messageId: MESSAGE, link: 5 });
    for (let cut = 0; cut < token.length; cut++) expect(signer.verify(token.slice(0, cut))).toBeNull();
    expect(signer.verify(`${token}A`)).toBeNull();
    expect(signer.verify(token.replace(/.$/, '!'))).toBeNull();
    expect(signer.verify(`${token}==`)).toBeNull();
    expect(signer.verify('')).toBeNull();
    expect(signer.verify('x'.repeat(10_000))).toBeNull();
    // Same bytes, other spelling: the last character's unused low bits set.
    const open = signer.sign({ kind: 'open', messageId: MESSAGE });
    const bytes = Buffer.from(open, 'base64url');
    expect(bytes.length % 3).not.toBe(0);
    const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
    const last = alphabet.indexOf(open.at(-1)!);
    const sloppy = open.slice(0, -1) + alphabet[last ^ 1];
    expect(Buffer.from(sloppy, 'base64url')).toEqual(bytes);
    expect(signer.verify(sloppy)).toBeNull();
  });

  it('verifies tokens whose MAC node:crypto computed (links sent before the MAC was our own code)', () => {
    // The key derivation and layout documented in tokens.ts, computed here independently.
    const key = createHmac('sha256', SECRET_A).update('baton tracking token v1').digest();
    const body = Buffer.concat([
      Buffer.from([1, 0, 2]),
      Buffer.from(MESSAGE.replaceAll('-', ''), 'hex'),
      Buffer.from([0x83, 0x01]),
    ]);
    const mac = createHmac('sha256', key).update(body).digest().subarray(0, 16);
    const token = Buffer.concat([body, mac]).toString('base64url');
    expect(signer.verify(token)).toEqual({ kind: 'click', messageId: MESSAGE, link: 131 });
    expect(signer.sign({ kind: 'click', messageId: MESSAGE, link: 131 })).toBe(token);
  });

  it('refuses characters outside base64url, standard base64 and non-ASCII ones included', () => {
    const token = signer.sign({ kind: 'open', messageId: MESSAGE });
    for (const character of ['+', '/', '=', '.', ' ', 'é', '\u{1F600}', '\u0000']) {
      expect(signer.verify(token.slice(0, 10) + character + token.slice(11))).toBeNull();
    }
  });

  it('refuses a token signed with another secret, or carrying another key id', () => {
    const other = new TokenSigner(ring(SECRET_B));
    expect(signer.verify(other.sign({ kind: 'open', messageId: MESSAGE }))).toBeNull();
    const otherId = new TokenSigner(ring(SECRET_A, 7));
    expect(signer.verify(otherId.sign({ kind: 'open', messageId: MESSAGE }))).toBeNull();
  });

  it('verifies a retired key within its grace period and refuses it after', () => {
    const clock = new ManualClock(Date.parse('2025-06-01T00:00:00Z'));
    const old = new TokenSigner(ring(SECRET_A, 1));
    const token = old.sign({ kind: 'click', messageId: MESSAGE, link: 2 });
    const rotated = new TokenSigner(
      {
        current: { id: 2, secret: SECRET_B },
        previous: [{ id: 1, secret: SECRET_A, retiredAt: new Date(clock.now()) }],
      },
      { clock },
    );
    expect(rotated.verify(token)).toEqual({ kind: 'click', messageId: MESSAGE, link: 2 });
    clock.advance(DEFAULT_GRACE_MS);
    expect(rotated.verify(token)).not.toBeNull();
    clock.advance(1);
    expect(rotated.verify(token)).toBeNull();
    // New tokens are signed with the current key, which never expires.
    expect(rotated.verify(rotated.sign({ kind: 'open', messageId: MESSAGE }))).not.toBeNull();
  });

  it('takes a configurable grace period', () => {
    const clock = new ManualClock(0);
    const token = new TokenSigner(ring(SECRET_A, 1)).sign({ kind: 'open', messageId: MESSAGE });
    const keyring = {
      current: { id: 2, secret: SECRET_B },
      previous: [{ id: 1, secret: SECRET_A, retiredAt: new Date(0) }],
    };
    const rotated = new TokenSigner(keyring, { clock, graceMs: 1000 });
    expect(rotated.verify(token)).not.toBeNull();
    clock.advance(1001);
    expect(rotated.verify(token)).toBeNull();
  });

  it('refuses to sign what is not a UUID or a link index', () => {
    expect(() => signer.sign({ kind: 'open', messageId: 'not-a-uuid' })).toThrow(/UUID/);
    expect(() => signer.sign({ kind: 'click', messageId: MESSAGE, link: -1 })).toThrow(/range/);
    expect(() => signer.sign({ kind: 'click', messageId: MESSAGE, link: 1.5 })).toThrow(/range/);
  });

  it('refuses a keyring with two keys of one id', () => {
    expect(
      () =>
        new TokenSigner({
          current: { id: 1, secret: SECRET_A },
          previous: [{ id: 1, secret: SECRET_B, retiredAt: new Date() }],
        }),
    ).toThrow(/id 1/);
  });
});
