import { createHmac, timingSafeEqual } from 'node:crypto';

export interface DecodedToken {
  header: Record<string, unknown>;
  claims: Record<string, unknown>;
}

const HASHES: Record<string, string> = { HS256: 'sha256', HS384: 'sha384', HS512: 'sha512' };

function decodePart(part: string): Record<string, unknown> {
  return JSON.parse(Buffer.from(part, 'base64url').toString('utf8')) as Record<string, unknown>;
}

export function decodeToken(token: string): DecodedToken {
  const [header, claims] = token.split('.');
  return { header: decodePart(header), claims: decodePart(claims) };
}

/**
 * An HMAC JWT check written straight from RFC 7515 with node:crypto, independent of the
 * jsonwebtoken library the service signs with. Throws unless the signature is right.
 */
export function verifyHmacToken(token: string, secret: string, algorithm = 'HS256'): DecodedToken {
  const parts = token.split('.');
  if (parts.length !== 3) throw new Error('a JWS compact serialization has three parts');
  const expected = createHmac(HASHES[algorithm], secret).update(`${parts[0]}.${parts[1]}`).digest();
  const given = Buffer.from(parts[2], 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    throw new Error('bad signature');
  const decoded = decodeToken(token);
  if (decoded.header.alg !== algorithm)
    throw new Error(`alg is ${String(decoded.header.alg)}, not ${algorithm}`);
  return decoded;
}

/** Signs an HMAC JWT with node:crypto: how an ERP that holds the secret makes its own tokens. */
export function signHmacToken(
  header: object,
  claims: object,
  secret: string,
  algorithm = 'HS256',
): string {
  const body = `${Buffer.from(JSON.stringify(header)).toString('base64url')}.${Buffer.from(JSON.stringify(claims)).toString('base64url')}`;
  return `${body}.${createHmac(HASHES[algorithm], secret).update(body).digest('base64url')}`;
}
