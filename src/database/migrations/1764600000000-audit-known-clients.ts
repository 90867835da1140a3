import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/** Finds a user's earlier sign-ins from an address without scanning the whole trail (known clients). */
export class AuditKnownClients1764600000000 implements MigrationInterface {
  name = 'AuditKnownClients1764600000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.createIndex(
      'audit_events',
      new TableIndex({
        name: 'idx_audit_events_target_client',
        columnNames: ['target', 'client'],
      }),
    );
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('audit_events', 'idx_audit_events_target_client');
  }
}
