import { AuditEventEntity } from './audit/entities/audit-event.entity';
import { TokenConfigEntity } from './token/entities/token-config.entity';
import { TokenKeyEntity } from './token/entities/token-key.entity';
import { UserEntity } from './users/entities/user.entity';
import { RevokedTokenEntity } from './token/entities/revoked-token.entity';
import { TokenCutoffEntity } from './token/entities/token-cutoff.entity';
import { SecretsKeyCheckEntity } from './secrets/entities/secrets-key-check.entity';
import { InitialSchema1764400000000 } from './database/migrations/1764400000000-initial-schema';
import { TokenRevocation1764500000000 } from './database/migrations/1764500000000-token-revocation';
import { AuditKnownClients1764600000000 } from './database/migrations/1764600000000-audit-known-clients';
import { SecretsKeyCheck1764900000000 } from './database/migrations/1764900000000-secrets-key-check';
import { UserAccessChanges1765000000000 } from './database/migrations/1765000000000-user-access-changes';
import { RevokedTokensWithoutConfigName1765100000000 } from './database/migrations/1765100000000-revoked-tokens-without-config-name';
import { AuditListIndexes1765200000000 } from './database/migrations/1765200000000-audit-list-indexes';
import { UserListIndexes1765300000000 } from './database/migrations/1765300000000-user-list-indexes';
import { TokenKeyVersions1765400000000 } from './database/migrations/1765400000000-token-key-versions';

/**
 * The library's tables: what a host app hands its TypeORM data source so that TokenModule finds
 * them, and the migrations that make them.
 */
export const TOKEN_SERVICE_ENTITIES = [
  TokenConfigEntity,
  TokenKeyEntity,
  UserEntity,
  AuditEventEntity,
  RevokedTokenEntity,
  TokenCutoffEntity,
  SecretsKeyCheckEntity,
];
export const TOKEN_SERVICE_MIGRATIONS = [
  InitialSchema1764400000000,
  TokenRevocation1764500000000,
  AuditKnownClients1764600000000,
  SecretsKeyCheck1764900000000,
  UserAccessChanges1765000000000,
  RevokedTokensWithoutConfigName1765100000000,
  AuditListIndexes1765200000000,
  UserListIndexes1765300000000,
  TokenKeyVersions1765400000000,
];
