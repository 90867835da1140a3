import { type MigrationInterface, type QueryRunner, TableIndex } from 'typeorm';

/**
 * Every filter of `audit/list` reads its own index, in the list's order (newest first by instant,
 * then id): a page after a cursor, and the capped count, cost the same however long the trail.
 */
export class AuditListIndexes1765200000000 implements MigrationInterface {
  name = 'AuditListIndexes1765200000000';

  async up(queryRunner: QueryRunner): Promise<void> {
    await queryRunner.dropIndex('audit_events', 'idx_audit_events_at');
    await queryRunner.dropIndex('audit_events', 'idx_audit_events_action');
    await queryRunner.createIndices('audit_events', [
      new TableIndex({ name: 'idx_audit_events_at', columnNames: ['at', 'id'] }),
      new TableIndex({ name: 'idx_audit_events_action', columnNames: ['action', 'at', 'id'] }),
      new TableIndex({ name: 'idx_audit_events_actor', columnNames: ['actor', 'at', 'id'] }),
      new TableIndex({ name: 'idx_audit_events_target', columnNames: ['target', 'at', 'id'] }),
    ]);
  }

  async down(queryRunner: QueryRunner): Promise<void> {
    for (const name of [
      'idx_audit_events_at',
      'idx_audit_events_action',
      'idx_audit_events_actor',
      'idx_audit_events_target',
    ]) {
      await queryRunner.dropIndex('audit_events', name);
    }
    await queryRunner.createIndices('audit_events', [
      new TableIndex({ name: 'idx_audit_events_at', columnNames: ['at'] }),
      new TableIndex({ name: 'idx_audit_events_action', columnNames: ['action'] }),
    ]);
  }
}
