import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../../../database/columns';

/** A signed-in browser. Only a SHA-256 of the cookie's value is stored, so a database reader cannot replay it. */
@Entity({ name: 'sessions' })
export class SessionEntity {
  @PrimaryColumn({ name: 'id_hash', type: 'varchar', length: 64 })
  idHash: string;

  @Column({ type: 'varchar', length: 128 })
  username: string;

  @Column({ name: 'created_date', type: 'bigint', transformer: epochMillis })
  createdDate: number;

  @Index('idx_sessions_expires_at')
  @Column({ name: 'expires_at', type: 'bigint', transformer: epochMillis })
  expiresAt: number;
}
