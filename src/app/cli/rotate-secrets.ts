import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { type AppSettings, readNewSecretsKey, settingsConfig } from '../../config/settings.config';
import { databaseOptions } from '../database/database.module';
import { loadOrCreateMasterKey, MASTER_KEY_FILE, previousMasterKeys } from '../secrets/master-key';
import { resealAll } from '../secrets/reseal';
import { SecretBox } from '../../secrets/secret-box';

/**
 * `npm run secrets:rotate`: re-seals every sealed value (SEALED_COLUMNS) and the key check under
 * a new master key. Two ways:
 * - online, when SECRETS_KEY_PREVIOUS is set: every instance already runs with SECRETS_KEY (the
 *   new key) and SECRETS_KEY_PREVIOUS (the old) and keeps serving; values still under the old key
 *   are re-sealed under SECRETS_KEY one row at a time, each UPDATE conditional on the value read.
 * - offline, otherwise: in one transaction, under NEW_SECRETS_KEY when given (then set SECRETS_KEY
 *   to it before the next start), else a generated key that replaces DATA_DIR/secrets.key once the
 *   transaction has committed. Every instance must be stopped.
 */
async function rotate(): Promise<string> {
  const settings = settingsConfig();
  const keyFile = join(settings.dataDir, MASTER_KEY_FILE);
  if (!settings.secretsKey && !existsSync(keyFile))
    throw new Error(`no master key: neither SECRETS_KEY nor ${keyFile}`);
  const currentKey = loadOrCreateMasterKey(settings.secretsKey, settings.dataDir).key;
  const given = readNewSecretsKey();
  const previousKeys = previousMasterKeys(settings.secretsKeyPrevious);
  if (previousKeys.length === 0) return rotateOffline(settings, currentKey, given, keyFile);
  if (given) {
    throw new Error(
      'NEW_SECRETS_KEY (offline rotation) and SECRETS_KEY_PREVIOUS (online rotation) are both set: give one',
    );
  }
  const { resealed, current } = await withDataSource(settings, (dataSource) =>
    resealAll(dataSource.manager, new SecretBox(currentKey, previousKeys)),
  ).catch((error: Error) => {
    throw new Error(
      `${error.message} (the values re-sealed so far stay under SECRETS_KEY: run it again)`,
    );
  });
  return (
    `re-sealed ${resealed} secrets under SECRETS_KEY (${current} already were); ` +
    'SECRETS_KEY_PREVIOUS can now be dropped: restart every instance without it'
  );
}

async function rotateOffline(
  settings: AppSettings,
  oldKey: Buffer,
  given: Buffer | undefined,
  keyFile: string,
): Promise<string> {
  const newKey = given ?? randomBytes(32);
  const fileBased = !settings.secretsKey && !given;
  const pending = `${keyFile}.new`;
  if (fileBased) writeFileSync(pending, `${newKey.toString('base64')}\n`, { mode: 0o600 });
  try {
    const count = await withDataSource(settings, (dataSource) =>
      dataSource.transaction((manager) =>
        resealAll(manager, new SecretBox(newKey, [oldKey]), lockFor(dataSource)),
      ),
    );
    if (fileBased) renameSync(pending, keyFile);
    return fileBased
      ? `re-sealed ${count.resealed} secrets; the new master key is in ${keyFile}`
      : `re-sealed ${count.resealed} secrets; set SECRETS_KEY to the value of NEW_SECRETS_KEY before the next start`;
  } catch (error) {
    if (fileBased && existsSync(pending)) unlinkSync(pending);
    throw new Error(`${(error as Error).message} (nothing changed)`);
  }
}

/** Runs `work` on the service's database, without running its migrations. */
async function withDataSource<T>(
  settings: AppSettings,
  work: (dataSource: DataSource) => Promise<T>,
): Promise<T> {
  const dataSource = new DataSource({
    ...(databaseOptions(settings) as DataSourceOptions),
    migrationsRun: false,
  });
  await dataSource.initialize();
  try {
    return await work(dataSource);
  } finally {
    if (dataSource.isInitialized) await dataSource.destroy();
  }
}

function lockFor(dataSource: DataSource) {
  return dataSource.options.type === 'postgres'
    ? { mode: 'pessimistic_write' as const }
    : undefined;
}

rotate().then(
  (message) =>
    process.stdout.write(`${JSON.stringify({ level: 30, time: Date.now(), msg: message })}\n`),
  (error: Error) => {
    process.stderr.write(
      `${JSON.stringify({ level: 60, time: Date.now(), msg: `rotation failed: ${error.message}` })}\n`,
    );
    process.exit(1);
  },
);
