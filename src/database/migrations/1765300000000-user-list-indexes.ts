import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/**
 * Every filter of `user/list` (usertype, enabled, both) reads its own index in the list's order
 * (username), as the unfiltered list reads the username's unique index: a page after a cursor,
 * and the capped count, cost the same however many users there are.
 */
export class UserListIndexes1765300000000 implements MigrationInterface {
  name = 'UserListIndexes1765300000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndices('users', [
      new TableIndex({ name: 'idx_users_usertype', columnNames: ['usertype', 'username'] }),
      new TableIndex({ name: 'idx_users_enabled', columnNames: ['enabled', 'username'] }),
      new TableIndex({
        name: 'idx_users_usertype_enabled',
        columnNames: ['usertype', 'enabled', 'username'],
      }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const name of ['idx_users_usertype', 'idx_users_enabled', 'idx_users_usertype_enabled'])
      await queryRunner.dropIndex('users', name);
  }
}
