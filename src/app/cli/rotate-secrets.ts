import 'reflect-metadata';
import { randomBytes } from 'node:crypto';
import { existsSync, renameSync, unlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DataSource, type DataSourceOptions } from 'typeorm';
import { readNewSecretsKey, settingsConfig } from '../../config/settings.config';
import { databaseOptions } from '../database/database.module';
import { loadOrCreateMasterKey, MASTER_KEY_FILE } from '../secrets/master-key';
import { SecretBox } from '../../secrets/secret-box';
import { resealKeyCheck } from '../../secrets/secrets-key-check.service';
import { TokenConfigEntity } from '../../token/entities/token-config.entity';

/**
 * `npm run secrets:rotate`: re-seals every configuration secret, and the key check, under a new
 * master key, in one transaction. The new key is NEW_SECRETS_KEY when given (then set SECRETS_KEY to it before the next
 * start), else a generated one that replaces DATA_DIR/secrets.key once the transaction has committed.
 */
async function rotate(): Promise<string> {
  const settings = settingsConfig();
  const keyFile = join(settings.dataDir, MASTER_KEY_FILE);
  if (!settings.secretsKey && !existsSync(keyFile))
    throw new Error(`no master key: neither SECRETS_KEY nor ${keyFile}`);
  const oldBox = new SecretBox(loadOrCreateMasterKey(settings.secretsKey, settings.dataDir).key);
  const given = readNewSecretsKey();
  const newKey = given ?? randomBytes(32);
  const newBox = new SecretBox(newKey);
  const fileBased = !settings.secretsKey && !given;
  const pending = `${keyFile}.new`;
  if (fileBased) writeFileSync(pending, `${newKey.toString('base64')}\n`, { mode: 0o600 });

  const dataSource = new DataSource({
    ...(databaseOptions(settings) as DataSourceOptions),
    migrationsRun: false,
  });
  await dataSource.initialize();
  try {
    const count = await dataSource.transaction(async (manager) => {
      const configs = await manager.find(TokenConfigEntity, { lock: lockFor(dataSource) });
      for (const config of configs) {
        const secret = oldBox.open(config.secretSealed, config.name);
        await manager.update(
          TokenConfigEntity,
          { name: config.name },
          { secretSealed: newBox.seal(secret, config.name) },
        );
      }
      await resealKeyCheck(manager, oldBox, newBox);
      return configs.length;
    });
    if (fileBased) renameSync(pending, keyFile);
    return fileBased
      ? `re-sealed ${count} secrets; the new master key is in ${keyFile}`
      : `re-sealed ${count} secrets; set SECRETS_KEY to the value of NEW_SECRETS_KEY before the next start`;
  } catch (error) {
    if (fileBased && existsSync(pending)) unlinkSync(pending);
    throw error;
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
      `${JSON.stringify({ level: 60, time: Date.now(), msg: `rotation failed, nothing changed: ${error.message}` })}\n`,
    );
    process.exit(1);
  },
);
