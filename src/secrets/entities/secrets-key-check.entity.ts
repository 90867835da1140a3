import { Column, Entity, PrimaryColumn } from 'typeorm';
import { epochMillis } from '../../database/columns';

/** One row: a value sealed with the master key of the first start, never the key itself. */
@Entity({ name: 'secrets_key_check' })
export class SecretsKeyCheckEntity {
  @PrimaryColumn({ type: 'integer' })
  id: number;

  @Column({ type: 'varchar', length: 256 })
  sealed: string;

  @Column({ name: 'created_date', type: 'bigint', transformer: epochMillis })
  createdDate: number;
}
