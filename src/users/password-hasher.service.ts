import { randomBytes, scrypt, ScryptOptions, timingSafeEqual } from 'node:crypto';
import { Injectable } from '@nestjs/common';

const KEY_BYTES = 32;
const DEFAULT_COST = { logN: 15, r: 8, p: 1 };

function derive(
  password: string,
  salt: Buffer,
  logN: number,
  r: number,
  p: number,
): Promise<Buffer> {
  const options: ScryptOptions = { N: 2 ** logN, r, p, maxmem: 256 * 2 ** logN * r + 1024 * 1024 };
  return new Promise((resolve, reject) =>
    scrypt(password, salt, KEY_BYTES, options, (error, key) =>
      error ? reject(error) : resolve(key),
    ),
  );
}

/**
 * Salted scrypt hashes in the form `scrypt$logN$r$p$salt$hash`: slow by design, so callers
 * that verify on every request keep a cache in front of it.
 */
@Injectable()
export class PasswordHasher {
  private readonly decoy: Promise<string>;

  constructor() {
    this.decoy = this.hash(randomBytes(16).toString('base64'));
  }

  async hash(password: string): Promise<string> {
    const { logN, r, p } = DEFAULT_COST;
    const salt = randomBytes(16);
    const key = await derive(password, salt, logN, r, p);
    return ['scrypt', logN, r, p, salt.toString('base64'), key.toString('base64')].join('$');
  }

  /** True when the password matches; a null hash (token-only user) costs as much as a real one and fails. */
  async verify(password: string, stored: string | null): Promise<boolean> {
    const parts = (stored ?? (await this.decoy)).split('$');
    const [scheme, logN, r, p, salt, expected] = parts;
    if (parts.length !== 6 || scheme !== 'scrypt') return false;
    const want = Buffer.from(expected, 'base64');
    const got = await derive(
      password,
      Buffer.from(salt, 'base64'),
      Number(logN),
      Number(r),
      Number(p),
    );
    return stored !== null && got.length === want.length && timingSafeEqual(got, want);
  }
}
