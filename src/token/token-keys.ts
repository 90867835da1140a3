import {
  createPublicKey,
  createSecretKey,
  generateKeyPair,
  hash,
  KeyObject,
  randomBytes,
  timingSafeEqual,
} from 'node:crypto';
import { promisify } from 'node:util';
import { keyFamily, TokenAlgorithm } from './token.constants';

const CURVES: Record<string, string> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};
const MIN_RSA_BITS = 2048;

export class KeyFormatError extends Error {}

/** The key object a configuration's secret stands for: an HMAC key, or the issuer's public key. */
export function keyFor(secret: string, algorithm: TokenAlgorithm): KeyObject {
  return keyFamily(algorithm) === 'HS'
    ? createSecretKey(Buffer.from(secret, 'utf8'))
    : publicKeyFor(secret, algorithm);
}

/** Base64 SPKI (a PEM body without its BEGIN/END lines; a whole PEM is accepted too) of the algorithm's family. */
function publicKeyFor(secret: string, algorithm: TokenAlgorithm): KeyObject {
  const body = secret.replace(/-----(BEGIN|END) PUBLIC KEY-----/g, '').replace(/\s+/g, '');
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(body))
    throw new KeyFormatError('must be a base64 SPKI public key');
  let key: KeyObject;
  try {
    key = createPublicKey({ key: Buffer.from(body, 'base64'), format: 'der', type: 'spki' });
  } catch {
    throw new KeyFormatError('must be a base64 SPKI public key');
  }
  if (keyFamily(algorithm) === 'RS') {
    if (key.asymmetricKeyType !== 'rsa')
      throw new KeyFormatError(`must be an RSA public key for ${algorithm}`);
    const bits = key.asymmetricKeyDetails?.modulusLength ?? 0;
    if (bits < MIN_RSA_BITS)
      throw new KeyFormatError(`must be an RSA key of at least ${MIN_RSA_BITS} bits`);
  } else if (
    key.asymmetricKeyType !== 'ec' ||
    key.asymmetricKeyDetails?.namedCurve !== CURVES[algorithm]
  ) {
    throw new KeyFormatError(
      `must be an EC public key on curve ${CURVES[algorithm]} for ${algorithm}`,
    );
  }
  return key;
}

/**
 * Constant-time equality of two strings of any lengths (both are hashed first, each with one
 * call: no Hash object per request).
 */
export function secretsEqual(given: string, stored: string): boolean {
  return timingSafeEqual(hash('sha256', given, 'buffer'), hash('sha256', stored, 'buffer'));
}

/** A kid for a configuration's next key version: its name, a dot and 48 random bits. */
export function newKid(configName: string): string {
  return `${configName}.${randomBytes(6).toString('base64url')}`;
}

/** The configuration a kid names: the part before the dot (a name never holds one). */
export function configNameOfKid(kid: string): string {
  const dot = kid.indexOf('.');
  return dot < 0 ? kid : kid.slice(0, dot);
}

/**
 * A key pair for a service-held configuration, made off the event loop: RSA of 2048 bits for RS*,
 * the algorithm's curve for ES*. Answers the private key as PKCS#8 PEM (what is sealed).
 */
export async function generateSigningKey(algorithm: TokenAlgorithm): Promise<string> {
  const pair =
    keyFamily(algorithm) === 'RS'
      ? await generatePair('rsa', { modulusLength: MIN_RSA_BITS })
      : await generatePair('ec', { namedCurve: CURVES[algorithm] });
  return pair.privateKey.export({ format: 'pem', type: 'pkcs8' }).toString();
}

const generatePair = promisify(generateKeyPair) as (
  type: 'rsa' | 'ec',
  options: { modulusLength: number } | { namedCurve: string },
) => Promise<{ privateKey: KeyObject; publicKey: KeyObject }>;

/** A public JSON Web Key (RFC 7517) of a service-held key version, for the JWKS. */
export interface PublicJwk {
  kty: string;
  kid: string;
  alg: string;
  use: 'sig';
  n?: string;
  e?: string;
  crv?: string;
  x?: string;
  y?: string;
}

export function publicJwk(privateKey: KeyObject, kid: string, algorithm: TokenAlgorithm): PublicJwk {
  const { kty, n, e, crv, x, y } = createPublicKey(privateKey).export({ format: 'jwk' });
  return {
    kty: kty as string,
    kid,
    alg: algorithm,
    use: 'sig',
    ...(kty === 'RSA' ? { n, e } : { crv, x, y }),
  };
}
