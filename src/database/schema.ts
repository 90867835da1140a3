import { AuditEventEntity } from '../audit/entities/audit-event.entity';
import { SessionEntity } from '../auth/entities/session.entity';
import { TokenConfigEntity } from '../token/entities/token-config.entity';
import { UserEntity } from '../users/entities/user.entity';
import { RevokedTokenEntity } from '../token/entities/revoked-token.entity';
import { TokenCutoffEntity } from '../token/entities/token-cutoff.entity';
import { SecretsKeyCheckEntity } from '../secrets/entities/secrets-key-check.entity';
import { InitialSchema1764400000000 } from './migrations/1764400000000-initial-schema';
import { TokenRevocation1764500000000 } from './migrations/1764500000000-token-revocation';
import { AuditKnownClients1764600000000 } from './migrations/1764600000000-audit-known-clients';
import { SecretsKeyCheck1764900000000 } from './migrations/1764900000000-secrets-key-check';
import { UserAccessChanges1765000000000 } from './migrations/1765000000000-user-access-changes';
import { RevokedTokensWithoutConfigName1765100000000 } from './migrations/1765100000000-revoked-tokens-without-config-name';

/** What a host app hands its TypeORM data source so that TokenModule finds its tables. */
export const TOKEN_SERVICE_ENTITIES = [
  TokenConfigEntity,
  UserEntity,
  AuditEventEntity,
  RevokedTokenEntity,
  TokenCutoffEntity,
  SecretsKeyCheckEntity,
];
/**
 * The standalone service's: the module's, and the sessions of its own login (AuthModule), which a
 * host never has. Their table comes from the first migration, which hosts run too.
 */
export const STANDALONE_ENTITIES = [...TOKEN_SERVICE_ENTITIES, SessionEntity];

export const TOKEN_SERVICE_MIGRATIONS = [
  InitialSchema1764400000000,
  TokenRevocation1764500000000,
  AuditKnownClients1764600000000,
  SecretsKeyCheck1764900000000,
  UserAccessChanges1765000000000,
  RevokedTokensWithoutConfigName1765100000000,
];
