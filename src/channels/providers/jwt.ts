import { createPrivateKey, sign, type KeyObject } from 'node:crypto';

/**
 * Compact JWS signing for the push services' credentials: RS256 for Google's service-account assertion,
 * ES256 for Apple's provider token. node:crypto does the signing; no JWT library is needed for two fixed
 * algorithms.
 */
export type JwtAlgorithm = 'RS256' | 'ES256';

function base64url(data: string | Buffer): string {
  return Buffer.from(data).toString('base64url');
}

export function signJwt(
  algorithm: JwtAlgorithm,
  key: KeyObject | string,
  claims: Record<string, unknown>,
  header: Record<string, string> = {},
): string {
  const privateKey = typeof key === 'string' ? createPrivateKey(key) : key;
  const input = `${base64url(JSON.stringify({ alg: algorithm, typ: 'JWT', ...header }))}.${base64url(JSON.stringify(claims))}`;
  // JWS wants ECDSA signatures as r‖s, not the DER that OpenSSL produces by default.
  const signature = sign('sha256', Buffer.from(input), {
    key: privateKey,
    ...(algorithm === 'ES256' ? { dsaEncoding: 'ieee-p1363' as const } : {}),
  });
  return `${input}.${base64url(signature)}`;
}
