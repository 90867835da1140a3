import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
import { SecretsKeyCheckEntity } from './entities/secrets-key-check.entity';
import { SecretBox, SecretBoxError } from './secret-box';

/** The check's one row, and the context its canary is sealed with (a rotation re-seals it). */
export const KEY_CHECK_ID = 1;
export const KEY_CHECK_CONTEXT = 'datafor-token-service master key check';
const CANARY = 'datafor-token-service';

export class SecretsKeyMismatchError extends Error {
  override readonly name = 'SecretsKeyMismatchError';
}

/**
 * Stops a start whose master key is not the one the database was first started with, before it
 * serves anything and even while no configuration exists: instances that share a database must
 * share SECRETS_KEY. The first start stores a canary sealed with its key; concurrent first starts
 * agree on whichever insert won. During an online rotation a canary under the previous key
 * (SECRETS_KEY_PREVIOUS) passes too, until `npm run secrets:rotate` re-seals it under the new one.
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
      .values({
        id: KEY_CHECK_ID,
        sealed: this.box.seal(CANARY, KEY_CHECK_CONTEXT),
        createdDate: Date.now(),
      })
      .orIgnore()
      .execute();
    const check = await this.checks.findOneByOrFail({ id: KEY_CHECK_ID });
    try {
      if (this.box.open(check.sealed, KEY_CHECK_CONTEXT) === CANARY) return;
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
