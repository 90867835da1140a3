import { Column, Entity, Index, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../../database/columns';

/**
 * A key version that is no longer a configuration's current one but still verifies its tokens
 * until `retires` (the overlap of a rotation). A service-held version also keeps signing until
 * its successor's `signsFrom`. Its key material is sealed like a secret, bound to its kid.
 */
@Entity({ name: 'token_keys' })
@Index('idx_token_keys_config', ['configName'])
export class TokenKeyEntity {
  @PrimaryColumn({ type: 'varchar', length: 96 })
  kid: string;

  @Column({ name: 'config_name', type: 'varchar', length: 64 })
  configName: string;

  /** The issuer's secret or public key, or the service's private key (PKCS#8 PEM), sealed. */
  @Column({ name: 'key_sealed', type: 'text' })
  keySealed: string;

  @Column({ name: 'created', type: 'bigint', transformer: epochMillis })
  created: number;

  @Column({ name: 'signs_from', type: 'bigint', transformer: epochMillis })
  signsFrom: number;

  @Column({ name: 'retires', type: 'bigint', transformer: epochMillis })
  retires: number;
}
