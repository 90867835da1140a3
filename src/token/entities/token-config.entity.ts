import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../../database/columns';
import type { KeyHolder, TokenAlgorithm } from '../token.constants';

export interface FieldMap {
  username: string;
  name?: string;
  email?: string;
}

/**
 * A registered issuer (an ERP). The secret is stored sealed, never in clear text. The row holds
 * the current key version; versions still in their overlap are TokenKeyEntity rows.
 */
@Entity({ name: 'token_configs' })
export class TokenConfigEntity {
  @PrimaryColumn({ type: 'varchar', length: 64 })
  name: string;

  @Column({ name: 'token_name', type: 'varchar', length: 64 })
  tokenName: string;

  /** What the ERP proves at mint; for an issuer-held key, also that key (HMAC secret or public key). */
  @Column({ name: 'secret_sealed', type: 'text' })
  secretSealed: string;

  /** Who holds the signing key: the issuer (the secret is the key) or this service. */
  @Column({ type: 'varchar', length: 8, default: 'issuer' })
  keyholder: KeyHolder;

  /** The current key version's kid; null: the configuration's name (keys made before versions). */
  @Column({ type: 'varchar', length: 96, nullable: true })
  kid: string | null;

  /** When the current key version was made (epoch ms); null: when the configuration was. */
  @Column({ name: 'key_created', type: 'bigint', nullable: true, transformer: epochMillis })
  keyCreated: number | null;

  /** A service-held configuration's private key (PKCS#8 PEM), sealed under its kid. */
  @Column({ name: 'signing_key_sealed', type: 'text', nullable: true })
  signingKeySealed: string | null;

  /** When a service-held current key starts signing (epoch ms): its predecessor signs until then. */
  @Column({ name: 'signs_from', type: 'bigint', nullable: true, transformer: epochMillis })
  signsFrom: number | null;

  /** Bumped by every write: each write applies only to the revision it read. */
  @Column({ type: 'integer', default: 0 })
  revision: number;

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
