import { randomBytes } from 'node:crypto';
import { SecretBox, SecretBoxError } from './secret-box';

describe('SecretBox', () => {
  const box = new SecretBox(randomBytes(32));

  it('opens what it sealed, for the same context', () => {
    const sealed = box.seal('the secret', 'ERP');
    expect(sealed).toMatch(/^v1:/);
    expect(sealed).not.toContain('the secret');
    expect(box.open(sealed, 'ERP')).toBe('the secret');
  });

  it('seals the same secret differently each time (random IV)', () => {
    expect(box.seal('s', 'ERP')).not.toBe(box.seal('s', 'ERP'));
  });

  it('refuses a sealed value moved onto another configuration', () => {
    expect(() => box.open(box.seal('s', 'ERP'), 'CRM')).toThrow(SecretBoxError);
  });

  it('refuses another master key with a sentence that names SECRETS_KEY', () => {
    expect(() => new SecretBox(randomBytes(32)).open(box.seal('s', 'ERP'), 'ERP')).toThrow(
      /SECRETS_KEY/,
    );
  });

  it('refuses a tampered value', () => {
    const sealed = Buffer.from(box.seal('secret', 'ERP').slice(3), 'base64');
    sealed[sealed.length - 1] ^= 1;
    expect(() => box.open(`v1:${sealed.toString('base64')}`, 'ERP')).toThrow(SecretBoxError);
  });

  it('refuses a value that is not sealed at all', () => {
    expect(() => box.open('plain-text-secret', 'ERP')).toThrow('not in the sealed format');
  });

  it('needs a 32-byte key', () => {
    expect(() => new SecretBox(randomBytes(16))).toThrow('32 bytes');
  });
});

describe('SecretBox with a previous key (an online rotation)', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);
  const before = new SecretBox(oldKey);
  const during = new SecretBox(newKey, [oldKey]);
  const after = new SecretBox(newKey);

  it('opens values sealed under either key', () => {
    expect(during.open(before.seal('old secret', 'ERP'), 'ERP')).toBe('old secret');
    expect(during.open(after.seal('new secret', 'ERP'), 'ERP')).toBe('new secret');
  });

  it('seals under the current key only', () => {
    const sealed = during.seal('s', 'ERP');
    expect(after.open(sealed, 'ERP')).toBe('s');
    expect(() => before.open(sealed, 'ERP')).toThrow(SecretBoxError);
  });

  it('tells a value already under the current key from one under the previous', () => {
    expect(during.isCurrent(during.seal('s', 'ERP'), 'ERP')).toBe(true);
    expect(during.isCurrent(before.seal('s', 'ERP'), 'ERP')).toBe(false);
    expect(during.isCurrent(during.seal('s', 'ERP'), 'CRM')).toBe(false);
  });

  it('refuses a value under neither key with the sentence that names SECRETS_KEY', () => {
    const stranger = new SecretBox(randomBytes(32)).seal('s', 'ERP');
    expect(() => during.open(stranger, 'ERP')).toThrow(
      'a stored secret does not open with this master key (is SECRETS_KEY the right one?)',
    );
    expect(() => during.open('plain-text-secret', 'ERP')).toThrow('not in the sealed format');
  });

  it('still binds the context, whichever key opens it', () => {
    expect(() => during.open(before.seal('s', 'ERP'), 'CRM')).toThrow(SecretBoxError);
  });

  it('needs 32-byte previous keys too', () => {
    expect(() => new SecretBox(newKey, [randomBytes(16)])).toThrow('32 bytes');
  });
});
