/**
 * The public surface for host apps: `import { TokenModule, ... } from 'datafor-token-service'`.
 * Nothing here starts or configures an app: the standalone service is `datafor-token-service/app`.
 */
export { TokenModule } from './token/token.module';
export { TOKEN_MODULE_OPTIONS } from './token/token.module-definition';
export type {
  TokenModuleAsyncOptions,
  TokenModuleOptions,
  TokenModuleRootOptions,
} from './token/token.module-definition';
export type { Principal } from './access/principal';
export type { ErrorStatusMode } from './common/http/error-status';
export { AdminGuard } from './access/admin.guard';
export { PrincipalService } from './access/principal.service';
export { TokenAuthenticationGuard } from './token/guards/token-authentication.guard';
export { TokenVerifier, TokenRejectedError } from './token/token-verifier.service';
export type { VerifiedToken, TokenRejection } from './token/token-verifier.service';
export type { TokenUser } from './token/token-user';
export { TokenConfigService } from './token/token-config.service';
export { TokenMintService } from './token/token-mint.service';
export type { MintedToken } from './token/token-mint.service';
export { TokenRevocationService } from './token/token-revocation.service';
export { TOKEN_SERVICE_ENTITIES, TOKEN_SERVICE_MIGRATIONS } from './schema';
export { recoverTransactionState } from './database/transaction-recovery';
export { MetricsService } from './metrics/metrics.service';
export { EnvelopeExceptionFilter } from './common/filters/envelope-exception.filter';
export { USER_TYPES } from './users/user-types';
export type { UserType } from './users/user-types';
export { TokenConfigEntity } from './token/entities/token-config.entity';
export { RevokedTokenEntity } from './token/entities/revoked-token.entity';
export { TokenCutoffEntity } from './token/entities/token-cutoff.entity';
export { UserEntity } from './users/entities/user.entity';
export { AuditEventEntity } from './audit/entities/audit-event.entity';
export { InitialSchema1764400000000 } from './database/migrations/1764400000000-initial-schema';
export { TokenRevocation1764500000000 } from './database/migrations/1764500000000-token-revocation';
export { AuditKnownClients1764600000000 } from './database/migrations/1764600000000-audit-known-clients';
