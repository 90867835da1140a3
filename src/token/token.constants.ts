export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export const PUBLIC_KEY_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'ES256',
  'ES384',
  'ES512',
] as const;
export const TOKEN_ALGORITHMS = [...HMAC_ALGORITHMS, ...PUBLIC_KEY_ALGORITHMS] as const;
export type TokenAlgorithm = (typeof TOKEN_ALGORITHMS)[number];

/** Who holds a configuration's signing key: the issuer (its secret is the key) or this service. */
export const KEY_HOLDERS = ['issuer', 'service'] as const;
export type KeyHolder = (typeof KEY_HOLDERS)[number];

/** What a stored secret (or password) reads as in every answer. */
export const MASK = '************';

export const TOKEN_DEFAULTS = {
  tokenName: 'token',
  expire: 86400,
  algorithm: 'HS256' as TokenAlgorithm,
  enable: '0',
  inituser: '1',
  initroles: ['SYS_Reader'],
};

/** Why a token is refused: token/verify's `reason`, and the 401's sentence. */
export const TOKEN_REJECTIONS = [
  'malformed',
  'unknown configuration',
  'algorithm not allowed',
  'unsupported critical header',
  'bad signature',
  'expired',
  'not yet valid',
  'revoked',
  'no expiry',
  'lifetime too long',
  'iat not a number',
  'issued in the future',
  'no username',
] as const;
export type TokenRejection = (typeof TOKEN_REJECTIONS)[number];

/**
 * Live key versions a configuration may have: the current one and those in their overlap. A token
 * that names no version costs one signature check per live version, and each has metric series.
 */
export const MAX_LIVE_KEY_VERSIONS = 4;

/** Below this many bytes an HMAC secret is guessable offline; RFC 7518 asks for the hash size. */
export const RECOMMENDED_SECRET_BYTES = 32;

/** Registered claim names a payload may not set (RFC 7519 section 4.1). */
export const REGISTERED_CLAIMS = new Set(['exp', 'iat', 'nbf', 'jti', 'iss', 'aud', 'sub']);

/** Claims the service sets on every token: a fieldmap may not point at them either. */
export const SERVICE_CLAIMS = new Set(['exp', 'iat', 'nbf', 'jti']);

export function isHmac(algorithm: TokenAlgorithm): boolean {
  return algorithm.startsWith('HS');
}

/** RS* and ES* are one family each, HS* another: a secret never crosses families. */
export function keyFamily(algorithm: TokenAlgorithm): 'HS' | 'RS' | 'ES' {
  return algorithm.slice(0, 2) as 'HS' | 'RS' | 'ES';
}
