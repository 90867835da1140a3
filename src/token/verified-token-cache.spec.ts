import { createHash } from 'node:crypto';
import type { ResolvedTokenConfig } from './token-config.store';
import { VerifiedTokenCache } from './verified-token-cache';

const resolved = () => ({ config: { name: 'ERP' } }) as unknown as ResolvedTokenConfig;

describe('VerifiedTokenCache', () => {
  it('keys an entry by the SHA-256 of the token, not by the token', () => {
    const cache = new VerifiedTokenCache();
    const token = 'eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiJhIn0.c2ln';
    const key = cache.keyOf(token);
    expect(key).toBe(createHash('sha256').update(token).digest('base64'));
    expect(key).not.toContain(token);
  });

  it('keeps no entry for a token longer than 4096 characters', () => {
    const cache = new VerifiedTokenCache();
    expect(cache.keyOf('x'.repeat(4097))).toBeUndefined();
    expect(cache.keyOf('x'.repeat(4096))).toBeDefined();
  });

  it('answers an entry only for the configuration object that verified it', () => {
    const cache = new VerifiedTokenCache();
    const verifiedBy = resolved();
    cache.remember('k', { resolved: verifiedBy, claims: { sub: 'a' }, username: 'a' });
    expect(cache.find('k', [verifiedBy])?.username).toBe('a');
    // The same configuration resolved again (changed, or reloaded) is another object.
    expect(cache.find('k', [resolved()])).toBeUndefined();
    expect(cache.find('other', [verifiedBy])).toBeUndefined();
  });

  it('freezes the claims it shares, to their last level', () => {
    const cache = new VerifiedTokenCache();
    const verifiedBy = resolved();
    const claims = { roles: ['a'], nested: { deep: { x: 1 } } };
    cache.remember('k', { resolved: verifiedBy, claims, username: 'a' });
    const found = cache.find('k', [verifiedBy])!.claims as typeof claims;
    expect(Object.isFrozen(found)).toBe(true);
    expect(Object.isFrozen(found.roles)).toBe(true);
    expect(Object.isFrozen(found.nested.deep)).toBe(true);
  });

  it('drops the oldest entry when full, and a forgotten one', () => {
    const cache = new VerifiedTokenCache(2);
    const verifiedBy = resolved();
    for (const key of ['a', 'b', 'c'])
      cache.remember(key, { resolved: verifiedBy, claims: {}, username: key });
    expect(cache.find('a', [verifiedBy])).toBeUndefined();
    expect(cache.find('b', [verifiedBy])?.username).toBe('b');
    cache.forget('c');
    expect(cache.find('c', [verifiedBy])).toBeUndefined();
  });
});
