import type { ObjectLiteral } from 'typeorm';
import { SecretsKeyCheckEntity } from '../../secrets/entities/secrets-key-check.entity';
import { KEY_CHECK_CONTEXT } from '../../secrets/secrets-key-check.service';
import { TokenConfigEntity } from '../../token/entities/token-config.entity';
import { TokenKeyEntity } from '../../token/entities/token-key.entity';
import { previousKeyContext, signingKeyContext } from '../../token/token-config.store';

/**
 * A column whose values are sealed under the master key: its entity (whose primary key names a
 * row, composite or not), the sealed property (a row whose value is null has none), and the
 * context (associated data) a row's value was sealed with. `npm run secrets:rotate` re-seals every one.
 */
export interface SealedColumn<E extends ObjectLiteral = ObjectLiteral> {
  entity: new () => E;
  column: keyof E & string;
  context(row: E): string;
}

/** Types an entry against its entity (its column and context checked), then widens it for the list. */
const sealed = <E extends ObjectLiteral>(entry: SealedColumn<E>) =>
  entry as unknown as SealedColumn;

/** Every sealed value that a rotation of the master key must carry over: one line each. */
export const SEALED_COLUMNS: readonly SealedColumn[] = [
  sealed({ entity: TokenConfigEntity, column: 'secretSealed', context: (config) => config.name }),
  sealed({
    entity: TokenConfigEntity,
    column: 'signingKeySealed',
    context: (config) => signingKeyContext(config.kid ?? config.name),
  }),
  sealed({
    entity: TokenKeyEntity,
    column: 'keySealed',
    context: (key) => previousKeyContext(key.kid),
  }),
];

/**
 * The key check's canary: re-sealed after every secret, so that a start with the old key alone is
 * refused only once nothing is left under it. Not a secret: it is not counted.
 */
export const KEY_CHECK_COLUMN = sealed({
  entity: SecretsKeyCheckEntity,
  column: 'sealed',
  context: () => KEY_CHECK_CONTEXT,
});
