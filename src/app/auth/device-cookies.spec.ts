import { randomBytes } from 'node:crypto';
import type { AppSettings } from '../../config/settings.config';
import { DeviceCookies } from './device-cookies';

const TTL = 3600;

describe('DeviceCookies', () => {
  const masterKey = randomBytes(32);
  let now: number;
  const clock = { now: () => now };
  const cookies = (key: Buffer = masterKey, ttl = TTL, previous: Buffer[] = []) =>
    new DeviceCookies(key, previous, { loginKnownClientTtl: ttl } as AppSettings, clock);

  beforeEach(() => {
    now = 1_800_000_000_000;
  });

  it('issues a cookie naming the user, whose device id only that user gets back', () => {
    const devices = cookies();
    const cookie = devices.issue('alice');
    expect(Buffer.from(cookie.split('.')[0], 'base64url').toString()).toBe('alice');
    const device = devices.deviceOf(cookie, 'alice');
    expect(device).toMatch(/^[A-Za-z0-9_-]{22}$/);
    expect(devices.deviceOf(devices.issue('alice'), 'alice')).not.toBe(device);
    expect(devices.deviceOf(cookie, 'bob')).toBeUndefined();
  });

  it('holds on another instance (or after a restart) with the same master key', () => {
    const cookie = cookies().issue('alice');
    expect(cookies(Buffer.from(masterKey)).deviceOf(cookie, 'alice')).toBeDefined();
    expect(cookies(randomBytes(32)).deviceOf(cookie, 'alice')).toBeUndefined();
  });

  it('during a rotation, accepts a cookie signed under the previous key and signs new ones under the current', () => {
    const newKey = randomBytes(32);
    const old = cookies().issue('alice');
    const rotating = cookies(newKey, TTL, [masterKey]);
    expect(rotating.deviceOf(old, 'alice')).toBe(old.split('.')[2]);
    expect(rotating.deviceOf(old, 'bob')).toBeUndefined();
    const fresh = rotating.issue('alice');
    expect(cookies(newKey).deviceOf(fresh, 'alice')).toBeDefined();
    expect(cookies().deviceOf(fresh, 'alice')).toBeUndefined();
    // Once SECRETS_KEY_PREVIOUS is dropped, the old cookie no longer holds.
    expect(cookies(newKey).deviceOf(old, 'alice')).toBeUndefined();
  });

  it('refuses a cookie renamed to another user, re-dated, or malformed', () => {
    const devices = cookies();
    const [, issuedAt, device, mac] = devices.issue('alice').split('.');
    const renamed = [Buffer.from('bob').toString('base64url'), issuedAt, device, mac].join('.');
    expect(devices.deviceOf(renamed, 'bob')).toBeUndefined();
    const redated = [Buffer.from('alice').toString('base64url'), Number(issuedAt) + 1, device, mac];
    expect(devices.deviceOf(redated.join('.'), 'alice')).toBeUndefined();
    for (const bad of [undefined, '', 'garbage', 'a.b.c.d', `${'x'.repeat(2000)}.1.2.3`])
      expect(devices.deviceOf(bad, 'alice')).toBeUndefined();
  });

  it('expires after LOGIN_KNOWN_CLIENT_TTL and is never trusted when it is 0', () => {
    const cookie = cookies().issue('alice');
    now += (TTL - 1) * 1000;
    expect(cookies().deviceOf(cookie, 'alice')).toBeDefined();
    now += 1000;
    expect(cookies().deviceOf(cookie, 'alice')).toBeUndefined();
    now = 1_800_000_000_000;
    expect(cookies(masterKey, 0).deviceOf(cookie, 'alice')).toBeUndefined();
  });
});
