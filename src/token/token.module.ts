import { type DynamicModule, Module, type NestModule } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { MetricsModule } from '../metrics/metrics.module';
import { CLOCK, systemClock } from '../common/clock';
import { answerModuleRouteErrorsWithEnvelope } from '../common/http/route-error-envelope';
import { SecretsKeyCheckEntity } from '../secrets/entities/secrets-key-check.entity';
import { SecretBox } from '../secrets/secret-box';
import { SecretsKeyCheck } from '../secrets/secrets-key-check.service';
import { UsersModule } from '../users/users.module';
import { RevokedTokenEntity } from './entities/revoked-token.entity';
import { TokenConfigEntity } from './entities/token-config.entity';
import { TokenCutoffEntity } from './entities/token-cutoff.entity';
import { TokenAuthenticationGuard } from './guards/token-authentication.guard';
import { RevocationStore } from './revocation.store';
import { TokenSignInService } from './token-sign-in.service';
import { TokenVerifier } from './token-verifier.service';
import { AdminGuard } from './guards/admin.guard';
import { PrincipalService } from './principal.service';
import { TokenConfigStore } from './token-config.store';
import { TokenSigner } from './token-signer.service';
import {
  ASYNC_OPTIONS_TYPE,
  ConfigurableModuleClass,
  OPTIONS_TYPE,
  TOKEN_MODULE_OPTIONS,
  type TokenModuleAsyncOptions,
  type TokenModuleOptions,
  type TokenModuleRootOptions,
} from './token.module-definition';
import { TokenController } from './token.controller';
import { TokenService } from './token.service';

/**
 * The Datafor token API: token configurations, minting, revocation, and the user endpoints.
 * `TokenModule.forRoot(options)` or `forRootAsync(...)`. Authentication is the host's (it puts
 * `request.user` in place); `TokenAuthenticationGuard` signs in the users that present a token.
 */
@Module({
  imports: [
    JwtModule.register({}),
    TypeOrmModule.forFeature([
      TokenConfigEntity,
      RevokedTokenEntity,
      TokenCutoffEntity,
      SecretsKeyCheckEntity,
    ]),
    UsersModule,
    AuditModule,
    MetricsModule,
  ],
  controllers: [TokenController],
  providers: [
    SecretsKeyCheck,
    TokenService,
    TokenConfigStore,
    TokenSigner,
    TokenVerifier,
    TokenSignInService,
    RevocationStore,
    TokenAuthenticationGuard,
    PrincipalService,
    AdminGuard,
    { provide: CLOCK, useValue: systemClock },
    {
      provide: SecretBox,
      inject: [TOKEN_MODULE_OPTIONS],
      useFactory: ({ secretsKey }: TokenModuleOptions) =>
        new SecretBox(
          typeof secretsKey === 'string' ? Buffer.from(secretsKey, 'base64') : secretsKey,
        ),
    },
  ],
  exports: [
    TOKEN_MODULE_OPTIONS,
    TokenService,
    TokenVerifier,
    TokenSignInService,
    TokenAuthenticationGuard,
    PrincipalService,
    AdminGuard,
    // What the exported guards need, so that `@UseGuards(...)` works in the host's own modules.
    TokenConfigStore,
    CLOCK,
    MetricsModule,
  ],
})
export class TokenModule extends ConfigurableModuleClass implements NestModule {
  constructor(private readonly adapterHost: HttpAdapterHost) {
    super();
  }

  /** Nest calls this before it registers the routes: the moment to reach their body-parse errors. */
  configure(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter) answerModuleRouteErrorsWithEnvelope(adapter);
  }

  static override forRoot<TUser = unknown>(options: TokenModuleRootOptions<TUser>): DynamicModule {
    // The module hands `principal` whatever the host's authentication put on request.user: TUser.
    return super.forRoot(options as unknown as typeof OPTIONS_TYPE);
  }

  static override forRootAsync<TUser = unknown>(
    options: TokenModuleAsyncOptions<TUser>,
  ): DynamicModule {
    return super.forRootAsync(options as unknown as typeof ASYNC_OPTIONS_TYPE);
  }
}
