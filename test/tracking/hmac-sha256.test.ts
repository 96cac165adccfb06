import { createHmac, randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { HmacSha256 } from '../../src/tracking/hmac-sha256.ts';

/**
 * Our HMAC-SHA256 against node:crypto's (OpenSSL's): every key length that takes a different path (empty,
 * shorter than a block, a block, longer and hashed first) with every message length across two block
 * boundaries, where the padding moves to a second block.
 */
const KEY_LENGTHS = [0, 1, 31, 32, 55, 63, 64, 65, 100, 200];
const MESSAGE_LENGTHS = Array.from({ length: 200 }, (_, i) => i);

describe('HmacSha256', () => {
  it('computes what node:crypto computes, for keys and messages of every length around the blocks', () => {
    let compared = 0;
    for (const keyLength of KEY_LENGTHS) {
      const key = randomBytes(keyLength);
      const ours = new HmacSha256(key);
      for (const length of MESSAGE_LENGTHS) {
        const message = randomBytes(length);
        expect(ours.digest(message).toString('hex')).toBe(
          createHmac('sha256', key).update(message).digest('hex'),
        );
        compared += 1;
      }
    }
    expect(compared).toBe(KEY_LENGTHS.length * MESSAGE_LENGTHS.length);
  });

  it('matches the RFC 4231 test vectors', () => {
    // Test cases 1 and 2 of RFC 4231 §4.
    expect(new HmacSha256(Buffer.alloc(20, 0x0b)).digest(Buffer.from('Hi There')).toString('hex')).toBe(
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
    );
    expect(
      new HmacSha256(Buffer.from('Jefe')).digest(Buffer.from('what do ya want for nothing?')).toString('hex'),
    ).toBe('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843');
  });

  it('verifies a truncated MAC, and refuses it with any bit changed or when too short', () => {
    const key = randomBytes(32);
    const ours = new HmacSha256(key);
    const message = randomBytes(35);
    const mac = createHmac('sha256', key).update(message).digest().subarray(0, 16);
    expect(ours.verify(message, mac)).toBe(true);
    for (let bit = 0; bit < mac.length * 8; bit++) {
      const changed = Buffer.from(mac);
      changed[bit >> 3]! ^= 1 << (bit & 7);
      expect(ours.verify(message, changed)).toBe(false);
    }
    // Fewer than 16 bytes is no MAC at all, even when they are right.
    expect(ours.verify(message, mac.subarray(0, 15))).toBe(false);
    expect(ours.verify(message, Buffer.alloc(0))).toBe(false);
  });

  it('gives a fresh digest each call, unchanged by later calls', () => {
    const ours = new HmacSha256(Buffer.from('k'));
    const first = ours.digest(Buffer.from('one'));
    const copy = Buffer.from(first);
    ours.digest(Buffer.from('two'));
    expect(first).toEqual(copy);
  });
});
