import { MigrationInterface, QueryRunner, Table, TableIndex } from 'typeorm';

const millis = (name: string, nullable = false) => ({ name, type: 'bigint', isNullable: nullable });
const text = (name: string, length?: string, nullable = true) => ({
  name,
  type: length ? 'varchar' : 'text',
  length,
  isNullable: nullable,
});

/**
 * The first schema, written with TypeORM's schema builder so that SQLite and PostgreSQL share it.
 * The standalone service's sessions table is a migration of its own (src/app/database/migrations).
 */
export class InitialSchema1764400000000 implements MigrationInterface {
  name = 'InitialSchema1764400000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createTable(
      new Table({
        name: 'token_configs',
        columns: [
          { name: 'name', type: 'varchar', length: '64', isPrimary: true },
          text('token_name', '64', false),
          text('secret_sealed', undefined, false),
          { name: 'expire', type: 'integer' },
          text('fieldmap', undefined, false),
          text('algorithm', '8', false),
          { name: 'enabled', type: 'boolean' },
          { name: 'init_user', type: 'boolean' },
          text('init_roles', undefined, false),
          text('init_password_hash'),
          millis('created_date'),
          millis('last_modified_date'),
          text('creator_id', '128', false),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'users',
        columns: [
          { name: 'id', type: 'varchar', length: '36', isPrimary: true },
          { name: 'username', type: 'varchar', length: '128', isUnique: true },
          text('password_hash'),
          ...['name', 'email', 'mobile', 'dept', 'title', 'company', 'dob', 'description'].map(
            (c) => text(c, '256'),
          ),
          text('usertype', '16', false),
          text('roles', undefined, false),
          { name: 'enabled', type: 'boolean' },
          millis('created_date'),
          millis('last_modified_date'),
        ],
      }),
    );
    await queryRunner.createTable(
      new Table({
        name: 'audit_events',
        columns: [
          {
            name: 'id',
            type: 'integer',
            isPrimary: true,
            isGenerated: true,
            generationStrategy: 'increment',
          },
          millis('at'),
          text('actor', '128', false),
          text('action', '32', false),
          text('target', '256', false),
          text('client', '64'),
          text('outcome', '16', false),
          text('details'),
        ],
        indices: [
          new TableIndex({ name: 'idx_audit_events_at', columnNames: ['at'] }),
          new TableIndex({ name: 'idx_audit_events_action', columnNames: ['action'] }),
        ],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const table of ['audit_events', 'users', 'token_configs']) {
      await queryRunner.dropTable(table);
    }
  }
}
