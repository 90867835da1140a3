import { type MigrationInterface, type QueryRunner, Table, TableColumn, TableIndex } from 'typeorm';

/**
 * Key versions (issue: rotation without an outage). A configuration keeps its current key on its
 * row, with that key's kid and who holds it; versions still in their overlap go to `token_keys`.
 * Rows made before keep a NULL kid: their tokens' kid is the configuration's name. `revision`
 * counts the row's writes: a write applies only to the revision it read (optimistic locking), so
 * a rotation never lands on a key replaced, or a configuration re-created, since it read it.
 */
export class TokenKeyVersions1765400000000 implements MigrationInterface {
  name = 'TokenKeyVersions1765400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumns('token_configs', [
      new TableColumn({
        name: 'keyholder',
        type: 'varchar',
        length: '8',
        default: "'issuer'",
      }),
      new TableColumn({ name: 'kid', type: 'varchar', length: '96', isNullable: true }),
      new TableColumn({ name: 'key_created', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'signing_key_sealed', type: 'text', isNullable: true }),
      new TableColumn({ name: 'signs_from', type: 'bigint', isNullable: true }),
      new TableColumn({ name: 'revision', type: 'integer', default: 0 }),
    ]);
    await queryRunner.createTable(
      new Table({
        name: 'token_keys',
        columns: [
          { name: 'kid', type: 'varchar', length: '96', isPrimary: true },
          { name: 'config_name', type: 'varchar', length: '64' },
          { name: 'key_sealed', type: 'text' },
          { name: 'created', type: 'bigint' },
          { name: 'signs_from', type: 'bigint' },
          { name: 'retires', type: 'bigint' },
        ],
      }),
    );
    await queryRunner.createIndex(
      'token_keys',
      new TableIndex({ name: 'idx_token_keys_config', columnNames: ['config_name'] }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropTable('token_keys');
    for (const column of [
      'revision',
      'signs_from',
      'signing_key_sealed',
      'key_created',
      'kid',
      'keyholder',
    ])
      await queryRunner.dropColumn('token_configs', column);
  }
}
