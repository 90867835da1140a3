import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { type Clock, CLOCK } from '../../common/clock';
import { type AppSettings, settingsConfig } from '../../config/settings.config';
import { deriveKey, MASTER_KEY, PREVIOUS_MASTER_KEYS } from '../secrets/master-key';

export const DEVICE_COOKIE = 'DATAFOR_DEVICE';

const b64url = (data: Buffer | string) => Buffer.from(data).toString('base64url');

/**
 * OWASP's device cookies: a browser that signed in as a user carries a cookie, signed with a key
 * derived from the master key (so it survives restarts and holds on every instance), naming that
 * user and a random device id. It proves nothing about the password; it only exempts that browser
 * from the lock that strangers' failures put on the user. During a rotation of the master key, a
 * cookie signed with the key derived from the previous one still holds, so no browser loses its
 * exemption; new cookies are signed with the current one.
 */
@Injectable()
export class DeviceCookies {
  readonly ttlSeconds: number;
  /** The current key first: it signs; every one of them verifies. */
  private readonly keys: Buffer[];

  constructor(
    @Inject(MASTER_KEY) masterKey: Buffer,
    @Inject(PREVIOUS_MASTER_KEYS) previousKeys: Buffer[],
    @Inject(settingsConfig.KEY) settings: AppSettings,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {
    this.keys = [masterKey, ...previousKeys].map((key) => deriveKey(key, 'device-cookie/v1'));
    this.ttlSeconds = settings.loginKnownClientTtl;
  }

  /** A new cookie value for `username`'s browser: its name, the issue time, a device id, the MAC. */
  issue(username: string): string {
    const body = `${b64url(username)}.${Math.floor(this.clock.now() / 1000)}.${b64url(randomBytes(16))}`;
    return `${body}.${this.mac(this.keys[0], body)}`;
  }

  /** The device id of a genuine, unexpired cookie issued to `username`, else undefined. */
  deviceOf(cookie: string | undefined, username: string): string | undefined {
    if (!cookie || cookie.length > 1024 || this.ttlSeconds === 0) return undefined;
    const parts = cookie.split('.');
    if (parts.length !== 4) return undefined;
    const [name, issuedAt, device, mac] = parts;
    const given = Buffer.from(mac);
    const genuine = this.keys.some((key) => {
      const expected = Buffer.from(this.mac(key, `${name}.${issuedAt}.${device}`));
      return given.length === expected.length && timingSafeEqual(given, expected);
    });
    if (!genuine) return undefined;
    if (name !== b64url(username)) return undefined;
    // A minute of leeway: another instance's clock may run a little ahead of this one's.
    const age = this.clock.now() / 1000 - Number(issuedAt);
    return age > -60 && age < this.ttlSeconds ? device : undefined;
  }

  private mac(key: Buffer, body: string): string {
    return createHmac('sha256', key).update(body).digest('base64url');
  }
}
