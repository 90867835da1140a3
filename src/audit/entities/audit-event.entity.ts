import { Column, Entity, Index, PrimaryGeneratedColumn } from 'typeorm';
import { epochMillis } from '../../database/columns';

export type AuditOutcome = 'success' | 'failure';

/** Who did what to which target, from where, and how it ended. Never a secret, password or token. */
@Entity({ name: 'audit_events' })
@Index('idx_audit_events_target_client', ['target', 'client'])
@Index('idx_audit_events_at', ['at', 'id'])
@Index('idx_audit_events_action', ['action', 'at', 'id'])
@Index('idx_audit_events_actor', ['actor', 'at', 'id'])
@Index('idx_audit_events_target', ['target', 'at', 'id'])
export class AuditEventEntity {
  @PrimaryGeneratedColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'bigint', transformer: epochMillis })
  at: number;

  @Column({ type: 'varchar', length: 128 })
  actor: string;

  @Column({ type: 'varchar', length: 32 })
  action: string;

  @Column({ type: 'varchar', length: 256 })
  target: string;

  @Column({ type: 'varchar', length: 64, nullable: true })
  client: string | null;

  @Column({ type: 'varchar', length: 16 })
  outcome: AuditOutcome;

  @Column({ type: 'simple-json', nullable: true })
  details: Record<string, string | number | boolean> | null;
}
