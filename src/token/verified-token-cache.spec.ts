import { createHash } from 'node:crypto';
import type { KeyVersion, ResolvedTokenConfig } from './token-config.store';
import { type Candidate, VerifiedTokenCache } from './verified-token-cache';

const version = () => ({ kid: 'ERP' }) as unknown as KeyVersion;
const resolved = () =>
  ({ config: { name: 'ERP' }, versions: [version()] }) as unknown as ResolvedTokenConfig;
/** The candidate of a token that names the configuration: all its versions. */
const all = (of: ResolvedTokenConfig): Candidate[] => [{ resolved: of, versions: of.versions }];

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
    cache.remember('k', { resolved: verifiedBy, version: verifiedBy.versions[0], claims: { sub: 'a' }, username: 'a' });
    expect(cache.find('k', all(verifiedBy))?.username).toBe('a');
    // The same configuration resolved again (changed, or reloaded) is another object.
    expect(cache.find('k', all(resolved()))).toBeUndefined();
    expect(cache.find('other', all(verifiedBy))).toBeUndefined();
  });

  it('answers an entry only while the key version that verified it is a candidate', () => {
    const cache = new VerifiedTokenCache();
    const verifiedBy = resolved();
    const [signer] = verifiedBy.versions;
    cache.remember('k', { resolved: verifiedBy, version: signer, claims: {}, username: 'a' });
    expect(cache.find('k', [{ resolved: verifiedBy, versions: [signer] }])).toBeDefined();
    // A retired version is no candidate any more, nor is another version of the kid's configuration.
    expect(cache.find('k', [{ resolved: verifiedBy, versions: [] }])).toBeUndefined();
    expect(cache.find('k', [{ resolved: verifiedBy, versions: [version()] }])).toBeUndefined();
  });

  it('freezes the claims it shares, to their last level', () => {
    const cache = new VerifiedTokenCache();
    const verifiedBy = resolved();
    const claims = { roles: ['a'], nested: { deep: { x: 1 } } };
    cache.remember('k', { resolved: verifiedBy, version: verifiedBy.versions[0], claims, username: 'a' });
    const found = cache.find('k', all(verifiedBy))!.claims as typeof claims;
    expect(Object.isFrozen(found)).toBe(true);
    expect(Object.isFrozen(found.roles)).toBe(true);
    expect(Object.isFrozen(found.nested.deep)).toBe(true);
  });

  it('drops the oldest entry when full, and a forgotten one', () => {
    const cache = new VerifiedTokenCache(2);
    const verifiedBy = resolved();
    for (const key of ['a', 'b', 'c'])
      cache.remember(key, { resolved: verifiedBy, version: verifiedBy.versions[0], claims: {}, username: key });
    expect(cache.find('a', all(verifiedBy))).toBeUndefined();
    expect(cache.find('b', all(verifiedBy))?.username).toBe('b');
    cache.forget('c');
    expect(cache.find('c', all(verifiedBy))).toBeUndefined();
  });
});
