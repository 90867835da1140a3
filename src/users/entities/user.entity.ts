import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../../database/columns';
import type { UserType } from '../user-types';

@Entity({ name: 'users' })
@Index('idx_users_usertype', ['usertype', 'username'])
@Index('idx_users_enabled', ['enabled', 'username'])
@Index('idx_users_usertype_enabled', ['usertype', 'enabled', 'username'])
export class UserEntity {
  @PrimaryColumn({ type: 'varchar', length: 36 })
  id: string;

  @Column({ type: 'varchar', length: 128, unique: true })
  username: string;

  /** scrypt hash; null for users who sign in with tokens only. */
  @Column({ name: 'password_hash', type: 'text', nullable: true })
  passwordHash: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  name: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  email: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  mobile: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  dept: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  title: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  company: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  dob: string | null;

  @Column({ type: 'varchar', length: 256, nullable: true })
  description: string | null;

  @Column({ type: 'varchar', length: 16 })
  usertype: UserType;

  @Column({ type: 'simple-json' })
  roles: string[];

  @Column({ type: 'boolean' })
  enabled: boolean;

  @Column({ name: 'created_date', type: 'bigint', transformer: epochMillis })
  createdDate: number;

  @Column({ name: 'last_modified_date', type: 'bigint', transformer: epochMillis })
  lastModifiedDate: number;

  /** When the password, type or enabled flag last changed: sessions older than this end. */
  @Column({ name: 'access_changed_date', type: 'bigint', default: 0, transformer: epochMillis })
  accessChangedDate: number;
}
