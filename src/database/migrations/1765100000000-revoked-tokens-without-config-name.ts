import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * A revoked token is named by its jti alone: a request that revokes one names no configuration,
 * so `revoked_tokens.config_name` held nothing but NULL.
 */
export class RevokedTokensWithoutConfigName1765100000000 implements MigrationInterface {
  name = 'RevokedTokensWithoutConfigName1765100000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('revoked_tokens', 'config_name');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'revoked_tokens',
      new TableColumn({ name: 'config_name', type: 'varchar', length: '64', isNullable: true }),
    );
  }
}
