import { scryptSync } from 'node:crypto';
import { PasswordHasher } from './password-hasher.service';

const PASSWORD = 'correct horse battery staple';

describe('PasswordHasher', () => {
  const hasher = new PasswordHasher();

  it('hashes as scrypt$logN$r$p$salt$hash with a 16-byte salt and a 32-byte key', async () => {
    const hash = await hasher.hash(PASSWORD);
    expect(hash).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[A-Za-z0-9+/]{22}==\$[A-Za-z0-9+/]{43}=$/);
    const [, logN, r, p] = hash.split('$');
    // A slow hash: at least the cost OWASP recommends for scrypt (N = 2^15, r = 8, p = 1).
    expect(Number(logN)).toBeGreaterThanOrEqual(15);
    expect(Number(r)).toBeGreaterThanOrEqual(8);
    expect(Number(p)).toBeGreaterThanOrEqual(1);
  });

  it('stores the key that node:crypto scrypt derives from the password and the salt (independent check)', async () => {
    const [, logN, r, p, salt, key] = (await hasher.hash(PASSWORD)).split('$');
    const N = 2 ** Number(logN);
    const derived = scryptSync(PASSWORD, Buffer.from(salt, 'base64'), 32, {
      N,
      r: Number(r),
      p: Number(p),
      maxmem: 256 * N * Number(r),
    });
    expect(derived.toString('base64')).toBe(key);
  });

  it('never contains the password', async () => {
    const hash = await hasher.hash(PASSWORD);
    expect(hash).not.toContain(PASSWORD);
    expect(hash).not.toContain(Buffer.from(PASSWORD).toString('base64'));
  });

  it('verifies the right password', async () => {
    expect(await hasher.verify(PASSWORD, await hasher.hash(PASSWORD))).toBe(true);
  });

  it.each(['wrong password', `${PASSWORD} `, PASSWORD.toUpperCase(), ''])(
    'refuses the wrong password %p',
    async (attempt) => {
      expect(await hasher.verify(attempt, await hasher.hash(PASSWORD))).toBe(false);
    },
  );

  it('refuses every password for a null hash (a user who signs in with tokens only)', async () => {
    expect(await hasher.verify(PASSWORD, null)).toBe(false);
    expect(await hasher.verify('', null)).toBe(false);
  });

  it.each([PASSWORD, '', 'scrypt$15$8$1$', 'bcrypt$15$8$1$c2FsdA==$a2V5'])(
    'refuses a stored value that is not a scrypt hash: %p',
    async (stored) => {
      expect(await hasher.verify(PASSWORD, stored)).toBe(false);
    },
  );

  it('salts: two hashes of one password differ, and each verifies', async () => {
    const [first, second] = await Promise.all([hasher.hash(PASSWORD), hasher.hash(PASSWORD)]);
    expect(first).not.toBe(second);
    expect(first.split('$')[4]).not.toBe(second.split('$')[4]);
    expect(await hasher.verify(PASSWORD, first)).toBe(true);
    expect(await hasher.verify(PASSWORD, second)).toBe(true);
  });
});
