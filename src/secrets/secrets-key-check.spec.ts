import { randomBytes } from 'node:crypto';
import type { Repository } from 'typeorm';
import type { SecretsKeyCheckEntity } from './entities/secrets-key-check.entity';
import { SecretBox } from './secret-box';
import { SecretsKeyCheck, SecretsKeyMismatchError } from './secrets-key-check.service';

/** The check's table as a repository holding one row, which the first start inserts. */
function checkTable(): Repository<SecretsKeyCheckEntity> & { row?: SecretsKeyCheckEntity } {
  const table: { row?: SecretsKeyCheckEntity } = {};
  const insert = {
    insert: () => insert,
    values: (row: SecretsKeyCheckEntity) => ((table.row ??= row), insert),
    orIgnore: () => insert,
    execute: () => Promise.resolve(),
  };
  return Object.assign(table, {
    createQueryBuilder: () => insert,
    findOneByOrFail: () => Promise.resolve(table.row),
  }) as unknown as Repository<SecretsKeyCheckEntity> & { row?: SecretsKeyCheckEntity };
}

describe('SecretsKeyCheck', () => {
  const oldKey = randomBytes(32);
  const newKey = randomBytes(32);

  it('passes the key the database was first started with, and stops any other', async () => {
    const table = checkTable();
    await new SecretsKeyCheck(table, new SecretBox(oldKey)).onModuleInit();
    await expect(new SecretsKeyCheck(table, new SecretBox(oldKey)).onModuleInit()).resolves.toBe(
      undefined,
    );
    await expect(new SecretsKeyCheck(table, new SecretBox(newKey)).onModuleInit()).rejects.toThrow(
      SecretsKeyMismatchError,
    );
  });

  it('during a rotation, passes a canary sealed under the previous key', async () => {
    const table = checkTable();
    await new SecretsKeyCheck(table, new SecretBox(oldKey)).onModuleInit();
    await expect(
      new SecretsKeyCheck(table, new SecretBox(newKey, [oldKey])).onModuleInit(),
    ).resolves.toBe(undefined);
    await expect(
      new SecretsKeyCheck(table, new SecretBox(newKey, [randomBytes(32)])).onModuleInit(),
    ).rejects.toThrow(/SECRETS_KEY must be the key the database was first started with/);
  });
});
