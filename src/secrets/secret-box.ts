import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 'v1';
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class SecretBoxError extends Error {
  override readonly name = 'SecretBoxError';
}

/**
 * Seals configuration secrets at rest with AES-256-GCM. The context (the configuration's name) is
 * bound as associated data, so a sealed value copied onto another row does not open.
 *
 * During an online rotation of the master key it also holds the previous keys: values sealed
 * under any of them still open, while new values are sealed under the current key only.
 */
export class SecretBox {
  private readonly key: Buffer;
  private readonly previous: Buffer[];

  constructor(key: Buffer, previous: readonly Buffer[] = []) {
    if (key.length !== 32 || previous.some((old) => old.length !== 32))
      throw new SecretBoxError('the master key must be 32 bytes');
    this.key = Buffer.from(key);
    this.previous = previous.map((old) => Buffer.from(old));
  }

  seal(plaintext: string, context: string): string {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.key, iv);
    cipher.setAAD(Buffer.from(context, 'utf8'));
    const body = Buffer.concat([cipher.update(plaintext, 'utf8'), cipher.final()]);
    return `${VERSION}:${Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')}`;
  }

  /** Opens under the current key first (the common case once a rotation is done), then the previous. */
  open(sealed: string, context: string): string {
    const raw = unpack(sealed);
    for (const key of [this.key, ...this.previous]) {
      const plaintext = openWith(key, raw, context);
      if (plaintext !== undefined) return plaintext;
    }
    throw new SecretBoxError(
      'a stored secret does not open with this master key (is SECRETS_KEY the right one?)',
    );
  }

  /** Whether `sealed` opens under the current key: a rotation has nothing left to do for it. */
  isCurrent(sealed: string, context: string): boolean {
    return openWith(this.key, unpack(sealed), context) !== undefined;
  }
}

function unpack(sealed: string): Buffer {
  const [version, encoded] = sealed.split(':', 2);
  const raw = Buffer.from(encoded ?? '', 'base64');
  if (version !== VERSION || raw.length < IV_BYTES + TAG_BYTES) {
    throw new SecretBoxError('a stored secret is not in the sealed format');
  }
  return raw;
}

/** The plaintext, or undefined when the tag does not verify under `key` (another key, or tampered). */
function openWith(key: Buffer, raw: Buffer, context: string): string | undefined {
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, IV_BYTES));
    decipher.setAAD(Buffer.from(context, 'utf8'));
    decipher.setAuthTag(raw.subarray(IV_BYTES, IV_BYTES + TAG_BYTES));
    return Buffer.concat([
      decipher.update(raw.subarray(IV_BYTES + TAG_BYTES)),
      decipher.final(),
    ]).toString('utf8');
  } catch {
    return undefined;
  }
}
