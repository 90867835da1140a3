import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMillis, epochSeconds } from '../../database/columns';

/** Every token of the configuration issued before `issuedBefore` (epoch seconds) is revoked. */
@Entity({ name: 'token_cutoffs' })
export class TokenCutoffEntity {
  @PrimaryColumn({ name: 'config_name', type: 'varchar', length: 64 })
  configName: string;

  @Column({ name: 'issued_before', type: 'bigint', transformer: epochSeconds })
  issuedBefore: number;

  @Column({ name: 'created_date', type: 'bigint', transformer: epochMillis })
  createdDate: number;
}
