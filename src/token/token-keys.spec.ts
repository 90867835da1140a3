import { generateKeyPairSync } from 'node:crypto';
import { KeyFormatError, keyFor, secretsEqual } from './token-keys';

const spkiOf = (publicKey: import('node:crypto').KeyObject) =>
  publicKey.export({ type: 'spki', format: 'der' }).toString('base64');

describe('keyFor', () => {
  it('makes an HMAC secret key from the secret bytes', () => {
    const key = keyFor('abcd', 'HS256');
    expect(key.type).toBe('secret');
    expect(key.export().toString()).toBe('abcd');
  });

  it('parses a base64 SPKI RSA key, and the same key as PEM', () => {
    const { publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    expect(keyFor(spkiOf(publicKey), 'RS256').asymmetricKeyType).toBe('rsa');
    const pem = publicKey.export({ type: 'spki', format: 'pem' }).toString();
    expect(keyFor(pem, 'RS384').asymmetricKeyType).toBe('rsa');
  });

  it('matches the EC curve to the algorithm', () => {
    const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'secp384r1' });
    expect(keyFor(spkiOf(publicKey), 'ES384').asymmetricKeyDetails?.namedCurve).toBe('secp384r1');
    expect(() => keyFor(spkiOf(publicKey), 'ES256')).toThrow(KeyFormatError);
  });

  it('refuses text that is not a key', () => {
    expect(() => keyFor('abcd', 'RS256')).toThrow('must be a base64 SPKI public key');
  });
});

describe('secretsEqual', () => {
  it('compares strings of any lengths', () => {
    expect(secretsEqual('abcd', 'abcd')).toBe(true);
    expect(secretsEqual('abcd', 'abce')).toBe(false);
    expect(secretsEqual('abc', 'abcd')).toBe(false);
    expect(secretsEqual('', 'x')).toBe(false);
  });
});
