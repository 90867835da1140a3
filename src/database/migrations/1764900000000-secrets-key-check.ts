import { type MigrationInterface, type QueryRunner, Table } from 'typeorm';

/** The sealed check value that tells a start whether its master key is the database's. */
export class SecretsKeyCheck1764900000000 implements MigrationInterface {
  name = 'SecretsKeyCheck1764900000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'secrets_key_check',
        columns: [
          { name: 'id', type: 'integer', isPrimary: true },
          { name: 'sealed', type: 'varchar', length: '256' },
          { name: 'created_date', type: 'bigint' },
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('secrets_key_check');
  }
}
