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
