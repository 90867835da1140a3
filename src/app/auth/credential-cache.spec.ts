import { jest } from '@jest/globals';
import { Subject } from 'rxjs';
import type { AppSettings } from '../../config/settings.config';
import type { UsersService } from '../../users/users.service';
import type { AuthenticatedUser } from './authenticated-user';
import { CredentialCache } from './credential-cache';

const PASSWORD = 'alice-secret-password';

const userNamed = (username: string): AuthenticatedUser => ({
  userid: `id-${username}`,
  username,
  usertype: 'SYS_Reader',
  roles: ['Manager'],
  via: 'basic',
});

describe('CredentialCache', () => {
  let credentialChanges: Subject<string>;
  let caches: CredentialCache[];

  const newCache = (authCacheTtl = 60) => {
    const cache = new CredentialCache(
      { authCacheTtl } as AppSettings,
      {
        credentialChanges,
      } as unknown as UsersService,
    );
    caches.push(cache);
    return cache;
  };

  beforeEach(() => {
    credentialChanges = new Subject<string>();
    caches = [];
  });
  afterEach(() => {
    caches.forEach((cache) => cache.onModuleDestroy());
    jest.useRealTimers();
  });

  it('answers nothing for a credential it was never given', () => {
    const cache = newCache();
    expect(cache.get(cache.fingerprint('alice', PASSWORD))).toBeUndefined();
  });

  it('answers the user stored under a fingerprint', () => {
    const cache = newCache();
    const alice = userNamed('alice');
    cache.set(cache.fingerprint('alice', PASSWORD), alice, cache.epoch);
    expect(cache.get(cache.fingerprint('alice', PASSWORD))).toEqual(alice);
  });

  it('does not answer the user for another password or another username', () => {
    const cache = newCache();
    cache.set(cache.fingerprint('alice', PASSWORD), userNamed('alice'), cache.epoch);
    expect(cache.get(cache.fingerprint('alice', `${PASSWORD}x`))).toBeUndefined();
    expect(cache.get(cache.fingerprint('alice2', PASSWORD))).toBeUndefined();
  });

  it('keeps an entry for AUTH_CACHE_TTL seconds and drops it then', () => {
    jest.useFakeTimers({ now: 1_800_000_000_000 });
    const cache = newCache(60);
    const fingerprint = cache.fingerprint('alice', PASSWORD);
    cache.set(fingerprint, userNamed('alice'), cache.epoch);
    jest.advanceTimersByTime(59_999);
    expect(cache.get(fingerprint)?.username).toBe('alice');
    jest.advanceTimersByTime(1);
    expect(cache.get(fingerprint)).toBeUndefined();
  });

  it('remembers nothing when AUTH_CACHE_TTL is 0', () => {
    const cache = newCache(0);
    const fingerprint = cache.fingerprint('alice', PASSWORD);
    cache.set(fingerprint, userNamed('alice'), cache.epoch);
    expect(cache.get(fingerprint)).toBeUndefined();
  });

  it("forgets every entry of a user at once when the user's credentials change, and only that user's", () => {
    const cache = newCache();
    const aliceOld = cache.fingerprint('alice', PASSWORD);
    const aliceOther = cache.fingerprint('alice', 'another-password');
    const bob = cache.fingerprint('bob', PASSWORD);
    cache.set(aliceOld, userNamed('alice'), cache.epoch);
    cache.set(aliceOther, userNamed('alice'), cache.epoch);
    cache.set(bob, userNamed('bob'), cache.epoch);

    credentialChanges.next('alice');

    expect(cache.get(aliceOld)).toBeUndefined();
    expect(cache.get(aliceOther)).toBeUndefined();
    expect(cache.get(bob)?.username).toBe('bob');
  });

  it('does not remember a check that began before a credential changed (it read the old hash)', () => {
    const cache = newCache();
    const alice = cache.fingerprint('alice', PASSWORD);
    const begun = cache.epoch;
    credentialChanges.next('alice');
    cache.set(alice, userNamed('alice'), begun);
    expect(cache.get(alice)).toBeUndefined();
    cache.set(alice, userNamed('alice'), cache.epoch);
    expect(cache.get(alice)?.username).toBe('alice');
  });

  it('forgets a user by exact username, not by a prefix or another letter case', () => {
    const cache = newCache();
    const alice = cache.fingerprint('alice', PASSWORD);
    cache.set(alice, userNamed('alice'), cache.epoch);
    credentialChanges.next('Alice');
    credentialChanges.next('ali');
    expect(cache.get(alice)?.username).toBe('alice');
  });

  it('stops listening to credential changes once the module is destroyed', () => {
    const cache = newCache();
    cache.onModuleDestroy();
    expect(credentialChanges.observed).toBe(false);
  });

  it('stays bounded: the oldest entry goes when 10000 are held', () => {
    const cache = newCache();
    const first = cache.fingerprint('user0', PASSWORD);
    for (let i = 0; i < 10_000; i++)
      cache.set(cache.fingerprint(`user${i}`, PASSWORD), userNamed(`user${i}`), cache.epoch);
    expect(cache.get(first)?.username).toBe('user0');
    cache.set(cache.fingerprint('one-more', PASSWORD), userNamed('one-more'), cache.epoch);
    expect(cache.get(first)).toBeUndefined();
    expect(cache.get(cache.fingerprint('user1', PASSWORD))?.username).toBe('user1');
    expect(cache.get(cache.fingerprint('one-more', PASSWORD))?.username).toBe('one-more');
  });

  describe('fingerprint', () => {
    it('never contains the password, the username or their Basic encoding', () => {
      const cache = newCache();
      const fingerprint = cache.fingerprint('alice', PASSWORD);
      expect(fingerprint).toMatch(/^[A-Za-z0-9_-]{43}$/);
      expect(fingerprint).not.toContain(PASSWORD);
      expect(fingerprint).not.toContain('alice');
      for (const encoding of ['base64', 'base64url', 'hex'] as const) {
        expect(fingerprint).not.toContain(Buffer.from(PASSWORD).toString(encoding).slice(0, 12));
        expect(fingerprint).not.toContain(
          Buffer.from(`alice:${PASSWORD}`).toString(encoding).slice(0, 12),
        );
      }
    });

    it('is the same for the same credential within one cache', () => {
      const cache = newCache();
      expect(cache.fingerprint('alice', PASSWORD)).toBe(cache.fingerprint('alice', PASSWORD));
    });

    it('differs between two caches (a per-process random key, so it cannot be precomputed)', () => {
      expect(newCache().fingerprint('alice', PASSWORD)).not.toBe(
        newCache().fingerprint('alice', PASSWORD),
      );
    });

    it('tells apart credentials that share the text username+password', () => {
      const cache = newCache();
      expect(cache.fingerprint('ab', 'c-password')).not.toBe(cache.fingerprint('a', 'bc-password'));
    });
  });
});
