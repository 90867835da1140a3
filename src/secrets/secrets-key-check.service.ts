import { Inject, Injectable, OnModuleInit } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { Repository } from 'typeorm';
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
    throw new SecretsKeyMismatchError(
      'SECRETS_KEY is not the master key this database was first started with (its stored key check does not open): ' +
        'every instance on one database must be given the same SECRETS_KEY',
    );
  }
}
