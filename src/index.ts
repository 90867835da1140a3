/**
 * The public surface for host apps: `import { TokenModule, ... } from 'datafor-token-service'`.
 * Nothing here starts or configures an app: the standalone service is `datafor-token-service/app`.
 */
export { TokenModule } from './token/token.module';
export { TOKEN_MODULE_OPTIONS } from './token/token.module-definition';
export type { TokenModuleOptions, Principal } from './token/token.module-definition';
export { AdminGuard } from './token/guards/admin.guard';
export { TokenAuthenticationGuard } from './token/guards/token-authentication.guard';
export { TokenVerifier, TokenRejectedError } from './token/token-verifier.service';
export type { VerifiedToken, TokenRejection } from './token/token-verifier.service';
export type { TokenUser } from './token/token-user';
export { TokenService } from './token/token.service';
export type { MintedToken } from './token/token.service';
export { PrincipalService } from './token/principal.service';
export { TOKEN_SERVICE_ENTITIES, TOKEN_SERVICE_MIGRATIONS } from './database/schema';
export { recoverTransactionState } from './database/transaction-recovery';
export { EnvelopeExceptionFilter } from './common/filters/envelope-exception.filter';
export { USER_TYPES } from './users/user-types';
export type { UserType } from './users/user-types';
