import { createHash } from 'node:crypto';

/**
 * HMAC-SHA256 (RFC 2104, SHA-256 as FIPS 180-4 defines it) with the key's two padded blocks hashed once,
 * up front — the precomputation RFC 2104 §4 describes. A tracking token is then one SHA-256 block for
 * the inner hash and one for the outer, computed in plain JavaScript with no allocation.
 *
 * Why not node:crypto's createHmac: every call builds an OpenSSL context object and crosses into native
 * code several times. Measured under load on the tracking server (bench/tracking), that cost 10–15 µs
 * per request, a third of the open pixel's whole budget; this costs about one. The tests compare it with
 * createHmac over keys and messages of every length around the block boundaries.
 */
const BLOCK_BYTES = 64;
const DIGEST_BYTES = 32;

/** SHA-256's round constants (FIPS 180-4 §4.2.2). */
const K = new Int32Array([
  0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5, 0xd807aa98,
  0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174, 0xe49b69c1, 0xefbe4786,
  0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da, 0x983e5152, 0xa831c66d, 0xb00327c8,
  0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967, 0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13,
  0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85, 0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819,
  0xd6990624, 0xf40e3585, 0x106aa070, 0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a,
  0x5b9cca4f, 0x682e6ff3, 0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7,
  0xc67178f2,
]);

/** SHA-256's initial hash value (FIPS 180-4 §5.3.3). */
const INITIAL = new Int32Array([
  0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
]);

/** The message schedule, shared: JavaScript runs one compression at a time. */
const schedule = new Int32Array(64);

/** Folds one 64-byte block (`block` from `offset`) into `state` (FIPS 180-4 §6.2.2). */
function compress(state: Int32Array, block: Uint8Array, offset: number): void {
  const w = schedule;
  for (let t = 0; t < 16; t++) {
    const i = offset + t * 4;
    w[t] = (block[i]! << 24) | (block[i + 1]! << 16) | (block[i + 2]! << 8) | block[i + 3]!;
  }
  for (let t = 16; t < 64; t++) {
    const x = w[t - 15]!;
    const y = w[t - 2]!;
    const s0 = ((x >>> 7) | (x << 25)) ^ ((x >>> 18) | (x << 14)) ^ (x >>> 3);
    const s1 = ((y >>> 17) | (y << 15)) ^ ((y >>> 19) | (y << 13)) ^ (y >>> 10);
    w[t] = (w[t - 16]! + s0 + w[t - 7]! + s1) | 0;
  }
  let a = state[0]!;
  let b = state[1]!;
  let c = state[2]!;
  let d = state[3]!;
  let e = state[4]!;
  let f = state[5]!;
  let g = state[6]!;
  let h = state[7]!;
  for (let t = 0; t < 64; t++) {
    const sum1 = ((e >>> 6) | (e << 26)) ^ ((e >>> 11) | (e << 21)) ^ ((e >>> 25) | (e << 7));
    const choice = (e & f) ^ (~e & g);
    const t1 = (h + sum1 + choice + K[t]! + w[t]!) | 0;
    const sum0 = ((a >>> 2) | (a << 30)) ^ ((a >>> 13) | (a << 19)) ^ ((a >>> 22) | (a << 10));
    const majority = (a & b) ^ (a & c) ^ (b & c);
    h = g;
    g = f;
    f = e;
    e = (d + t1) | 0;
    d = c;
    c = b;
    b = a;
    a = (t1 + sum0 + majority) | 0;
  }
  state[0] = (state[0]! + a) | 0;
  state[1] = (state[1]! + b) | 0;
  state[2] = (state[2]! + c) | 0;
  state[3] = (state[3]! + d) | 0;
  state[4] = (state[4]! + e) | 0;
  state[5] = (state[5]! + f) | 0;
  state[6] = (state[6]! + g) | 0;
  state[7] = (state[7]! + h) | 0;
}

/** The last block or two, padded (FIPS 180-4 §5.1.1); reused, like the schedule. */
const tail = new Uint8Array(2 * BLOCK_BYTES);

/**
 * Hashes `message` into `state`, which holds the hash of `prefixBytes` bytes already (the key's padded
 * block): its full blocks, then the rest with its padding and the total length in bits.
 */
function finish(state: Int32Array, message: Uint8Array, prefixBytes: number): void {
  const full = message.length - (message.length % BLOCK_BYTES);
  for (let offset = 0; offset < full; offset += BLOCK_BYTES) compress(state, message, offset);
  const rest = message.length - full;
  // The rest, the 0x80 byte and the 8-byte length fit one block up to 55 bytes of rest, else two.
  const blocks = rest + 9 <= BLOCK_BYTES ? 1 : 2;
  const end = blocks * BLOCK_BYTES;
  tail.fill(0, 0, end);
  tail.set(message.subarray(full), 0);
  tail[rest] = 0x80;
  const bits = (prefixBytes + message.length) * 8;
  // Two 32-bit halves: the length can pass 2^32 bits, and JavaScript's shifts stop at 32.
  const high = Math.floor(bits / 2 ** 32);
  const low = bits >>> 0;
  for (let i = 0; i < 4; i++) {
    tail[end - 8 + i] = (high >>> (24 - 8 * i)) & 0xff;
    tail[end - 4 + i] = (low >>> (24 - 8 * i)) & 0xff;
  }
  for (let offset = 0; offset < end; offset += BLOCK_BYTES) compress(state, tail, offset);
}

function writeWords(state: Int32Array, out: Uint8Array): void {
  for (let i = 0; i < 8; i++) {
    const word = state[i]!;
    out[i * 4] = word >>> 24;
    out[i * 4 + 1] = (word >>> 16) & 0xff;
    out[i * 4 + 2] = (word >>> 8) & 0xff;
    out[i * 4 + 3] = word & 0xff;
  }
}

export class HmacSha256 {
  /** SHA-256 states after the key XOR ipad block and after the key XOR opad block. */
  private readonly innerStart = new Int32Array(8);
  private readonly outerStart = new Int32Array(8);
  private readonly state = new Int32Array(8);
  private readonly innerDigest = new Uint8Array(DIGEST_BYTES);
  private readonly digestBytes = new Uint8Array(DIGEST_BYTES);

  constructor(key: Uint8Array) {
    // A key longer than a block is replaced by its hash (RFC 2104 §2).
    const short = key.length > BLOCK_BYTES ? createHash('sha256').update(key).digest() : key;
    const inner = new Uint8Array(BLOCK_BYTES).fill(0x36);
    const outer = new Uint8Array(BLOCK_BYTES).fill(0x5c);
    for (let i = 0; i < short.length; i++) {
      inner[i]! ^= short[i]!;
      outer[i]! ^= short[i]!;
    }
    this.innerStart.set(INITIAL);
    compress(this.innerStart, inner, 0);
    this.outerStart.set(INITIAL);
    compress(this.outerStart, outer, 0);
  }

  /** HMAC(key, message), a fresh copy. */
  digest(message: Uint8Array): Buffer {
    return Buffer.from(this.compute(message));
  }

  /**
   * Whether `expected` is the first `expected.length` bytes (at least 16) of HMAC(key, message). Every
   * byte is compared whatever the earlier ones were, so the time taken says nothing about a near miss.
   */
  verify(message: Uint8Array, expected: Uint8Array): boolean {
    if (expected.length < 16 || expected.length > DIGEST_BYTES) return false;
    const mac = this.compute(message);
    let difference = 0;
    for (let i = 0; i < expected.length; i++) difference |= mac[i]! ^ expected[i]!;
    return difference === 0;
  }

  /** The MAC in a buffer the next call overwrites. */
  private compute(message: Uint8Array): Uint8Array {
    this.state.set(this.innerStart);
    finish(this.state, message, BLOCK_BYTES);
    writeWords(this.state, this.innerDigest);
    this.state.set(this.outerStart);
    finish(this.state, this.innerDigest, BLOCK_BYTES);
    writeWords(this.state, this.digestBytes);
    return this.digestBytes;
  }
}
