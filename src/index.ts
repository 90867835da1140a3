/** The public surface for host apps: `import { TokenModule, ... } from 'datafor-token-service'`. */
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
export { MetricsService } from './metrics/metrics.service';
export { EnvelopeExceptionFilter } from './common/filters/envelope-exception.filter';
export { USER_TYPES } from './users/user-types';
export type { UserType } from './users/user-types';
export { AppModule } from './app.module';
export { createApp, configureApp } from './app.setup';
