import { type MigrationInterface, type QueryRunner, TableColumn } from 'typeorm';

/**
 * When a user's password, type or enabled flag last changed: a session that began before it ends,
 * while a profile edit leaves sessions alone. Existing users start from their last modification.
 */
export class UserAccessChanges1765000000000 implements MigrationInterface {
  name = 'UserAccessChanges1765000000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.addColumn(
      'users',
      new TableColumn({ name: 'access_changed_date', type: 'bigint', default: 0 }),
    );
    await queryRunner.query('UPDATE users SET access_changed_date = last_modified_date');
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropColumn('users', 'access_changed_date');
  }
}
