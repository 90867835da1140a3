import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../../database/columns';
import type { TokenAlgorithm } from '../token.constants';

export interface FieldMap {
  username: string;
  name?: string;
  email?: string;
}

/** A registered issuer (an ERP). The secret is stored sealed, never in clear text. */
@Entity({ name: 'token_configs' })
export class TokenConfigEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name: string;

  @Column({ name: 'token_name', type: 'varchar', length: 64 })
  tokenName: string;

  @Column({ name: 'secret_sealed', type: 'text' })
  secretSealed: string;

  @Column({ type: 'integer' })
  expire: number;

  @Column({ type: 'simple-json' })
  fieldmap: FieldMap;

  @Column({ type: 'varchar', length: 8 })
  algorithm: TokenAlgorithm;

  @Column({ type: 'boolean' })
  enabled: boolean;

  @Column({ name: 'init_user', type: 'boolean' })
  initUser: boolean;

  @Column({ name: 'init_roles', type: 'simple-json' })
  initRoles: string[];

  @Column({ name: 'init_password_hash', type: 'text', nullable: true })
  initPasswordHash: string | null;

  @Column({ name: 'created_date', type: 'bigint', transformer: epochMillis })
  createdDate: number;

  @Column({ name: 'last_modified_date', type: 'bigint', transformer: epochMillis })
  lastModifiedDate: number;

  @Column({ name: 'creator_id', type: 'varchar', length: 128 })
  creatorId: string;
}
