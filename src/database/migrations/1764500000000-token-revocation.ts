import { type MigrationInterface, type QueryRunner, Table, TableIndex } from 'typeorm';

/** Revoked token ids (kept until they expire) and per-configuration cut-off instants. */
export class TokenRevocation1764500000000 implements MigrationInterface {
  name = 'TokenRevocation1764500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'revoked_tokens',
        columns: [
          { name: 'jti', type: 'varchar', length: '128', isPrimary: true },
          { name: 'config_name', type: 'varchar', length: '64', isNullable: true },
          { name: 'expires_at', type: 'bigint' },
        ],
        indices: [
          new TableIndex({ name: 'idx_revoked_tokens_expires_at', columnNames: ['expires_at'] }),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'token_cutoffs',
        columns: [
          { name: 'config_name', type: 'varchar', length: '64', isPrimary: true },
          { name: 'issued_before', type: 'bigint' },
          { name: 'created_date', type: 'bigint' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('token_cutoffs');
    await queryRunner.dropTable('revoked_tokens');
  }
}
