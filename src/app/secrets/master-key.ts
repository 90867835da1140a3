import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { hkdfSync, randomBytes } from 'node:crypto';

export const MASTER_KEY_FILE = 'secrets.key';

/** The standalone service's master key as a provider (a 32-byte Buffer): see MasterKeyModule. */
export const MASTER_KEY = Symbol('MASTER_KEY');

/**
 * The keys MASTER_KEY replaced, still accepted during an online rotation (SECRETS_KEY_PREVIOUS):
 * a Buffer[], empty once the rotation is done. Never used to seal or sign anything new.
 */
export const PREVIOUS_MASTER_KEYS = Symbol('PREVIOUS_MASTER_KEYS');

/** SECRETS_KEY_PREVIOUS (validated by the settings) as the keys PREVIOUS_MASTER_KEYS holds. */
export function previousMasterKeys(secretsKeyPrevious: string | undefined): Buffer[] {
  return secretsKeyPrevious ? [Buffer.from(secretsKeyPrevious, 'base64')] : [];
}

/**
 * The master key that seals configuration secrets: SECRETS_KEY when set, else a key generated on
 * first start into DATA_DIR/secrets.key, readable by its owner only.
 */
export function loadOrCreateMasterKey(
  secretsKey: string | undefined,
  dataDir: string,
): { key: Buffer; source: string } {
  if (secretsKey) return { key: Buffer.from(secretsKey, 'base64'), source: 'SECRETS_KEY' };
  const file = join(dataDir, MASTER_KEY_FILE);
  if (!existsSync(file)) {
    mkdirSync(dataDir, { recursive: true, mode: 0o700 });
    writeFileSync(file, `${randomBytes(32).toString('base64')}\n`, { mode: 0o600, flag: 'wx' });
  }
  chmodSync(file, 0o600);
  const key = Buffer.from(readFileSync(file, 'utf8').trim(), 'base64');
  if (key.length !== 32) throw new Error(`${file} does not hold a 32-byte base64 key`);
  return { key, source: file };
}

/** A key for one purpose, derived from the master key (HKDF-SHA256): the same on every instance that shares it. */
export function deriveKey(masterKey: Buffer, purpose: string): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, 'datafor-token-service', purpose, 32));
}
