import { TokenHeaderCache } from './token-header-cache';
import { TokenRejectedError } from './token-rejected.error';

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const tokenWith = (header: unknown) => `${encode(header)}.${encode({ sub: 'a' })}.c2ln`;

function rejection(read: () => unknown): string | undefined {
  try {
    read();
  } catch (error) {
    if (error instanceof TokenRejectedError) return error.reason;
    throw error;
  }
  return undefined;
}

describe('TokenHeaderCache', () => {
  it('reads the header of a compact JWS, the same object for the same encoded header', () => {
    const cache = new TokenHeaderCache();
    const first = cache.read(tokenWith({ alg: 'HS256', kid: 'ERP' }));
    expect(first).toEqual({ alg: 'HS256', kid: 'ERP' });
    expect(Object.isFrozen(first)).toBe(true);
    expect(cache.read(`${encode({ alg: 'HS256', kid: 'ERP' })}.other.sig`)).toBe(first);
    expect(cache.read(tokenWith({ alg: 'HS384', kid: 'ERP' }))).toEqual({
      alg: 'HS384',
      kid: 'ERP',
    });
  });

  it.each([
    ['two parts', `${encode({ alg: 'HS256' })}.${encode({})}`],
    ['four parts', `${tokenWith({ alg: 'HS256' })}.x`],
    ['a header that is not JSON', `${Buffer.from('{alg').toString('base64url')}.e30.c2ln`],
    ['a header that is not an object', tokenWith('HS256')],
    ['a null header', tokenWith(null)],
    ['a token over 8192 characters', `${encode({ alg: 'HS256' })}.${'a'.repeat(8200)}.c2ln`],
  ])('refuses %s as malformed, every time', (_name, token) => {
    const cache = new TokenHeaderCache();
    expect(rejection(() => cache.read(token))).toBe('malformed');
    expect(rejection(() => cache.read(token))).toBe('malformed');
  });

  it('keeps at most 256 headers, dropping the oldest first', () => {
    const cache = new TokenHeaderCache();
    const first = cache.read(tokenWith({ alg: 'HS256', kid: 'k0' }));
    for (let i = 1; i <= 256; i++) cache.read(tokenWith({ alg: 'HS256', kid: `k${i}` }));
    const again = cache.read(tokenWith({ alg: 'HS256', kid: 'k0' }));
    expect(again).toEqual(first);
    expect(again).not.toBe(first);
    const recent = cache.read(tokenWith({ alg: 'HS256', kid: 'k256' }));
    expect(cache.read(tokenWith({ alg: 'HS256', kid: 'k256' }))).toBe(recent);
  });

  it('does not keep long headers', () => {
    const cache = new TokenHeaderCache();
    const token = tokenWith({ alg: 'HS256', kid: 'k'.repeat(600) });
    expect(cache.read(token)).not.toBe(cache.read(token));
  });
});
