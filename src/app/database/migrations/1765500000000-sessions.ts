import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

/**
 * The sessions of the standalone service's own login (AuthModule), which only the service runs: a
 * host's database never has them. A database whose first migration made the table already (before
 * the library's schema left it out) keeps it as it is.
 */
export class Sessions1765500000000 implements MigrationInterface {
  name = 'Sessions1765500000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'sessions',
        columns: [
          { name: 'id_hash', type: 'varchar', length: '64', isPrimary: true },
          { name: 'username', type: 'varchar', length: '128', isNullable: false },
          { name: 'created_date', type: 'bigint', isNullable: false },
          { name: 'expires_at', type: 'bigint', isNullable: false },
        ],
        indices: [new TableIndex({ name: 'idx_sessions_expires_at', columnNames: ['expires_at'] })],
      }),
      true,
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('sessions');
  }
}
