import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { type EntityManager, Repository } from 'typeorm';
import { SecretsKeyCheckEntity } from './entities/secrets-key-check.entity';
import { SecretBox, SecretBoxError } from './secret-box';

const CHECK_ID = 1;
const CONTEXT = 'datafor-token-service master key check';
const CANARY = 'datafor-token-service';

export class SecretsKeyMismatchError extends Error {
  override readonly name = 'SecretsKeyMismatchError';
}

/**
 * Stops a start whose master key is not the one the database was first started with, before it
 * serves anything and even while no configuration exists: instances that share a database must
 * share SECRETS_KEY. The first start stores a canary sealed with its key; concurrent first starts
 * agree on whichever insert won.
 */
@Injectable()
export class SecretsKeyCheck implements OnModuleInit {
  constructor(
    @InjectRepository(SecretsKeyCheckEntity)
    private readonly checks: Repository<SecretsKeyCheckEntity>,
    @Inject(SecretBox) private readonly box: SecretBox,
  ) {}

  async onModuleInit(): Promise<void> {
    await this.checks
      .createQueryBuilder()
      .insert()
      .values({ id: CHECK_ID, sealed: this.box.seal(CANARY, CONTEXT), createdDate: Date.now() })
      .orIgnore()
      .execute();
    const check = await this.checks.findOneByOrFail({ id: CHECK_ID });
    try {
      if (this.box.open(check.sealed, CONTEXT) === CANARY) return;
    } catch (error) {
      if (!(error instanceof SecretBoxError)) throw error;
    }
    throw mismatch();
  }
}

const mismatch = () =>
  new SecretsKeyMismatchError(
    'the key check stored in the database does not open with this master key: SECRETS_KEY must be ' +
      'the key the database was first started with, the same on every instance',
  );

/** For a key rotation: re-seals the check under the new key, within the rotation's transaction. */
export async function resealKeyCheck(
  manager: EntityManager,
  oldBox: SecretBox,
  newBox: SecretBox,
): Promise<void> {
  // A database that no start of this version has migrated yet has no check to carry over.
  if (!(await manager.queryRunner?.hasTable('secrets_key_check'))) return;
  const check = await manager.findOneBy(SecretsKeyCheckEntity, { id: CHECK_ID });
  if (!check) return;
  try {
    oldBox.open(check.sealed, CONTEXT);
  } catch {
    throw mismatch();
  }
  await manager.update(
    SecretsKeyCheckEntity,
    { id: CHECK_ID },
    { sealed: newBox.seal(CANARY, CONTEXT) },
  );
}
