import { type DynamicModule, Inject, Module, type NestModule } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AccessModule } from '../access/access.module';
import { AccessOptionsModule } from '../access/access.module-definition';
import { AuditModule } from '../audit/audit.module';
import { AUDIT_RETENTION, AuditPruner, auditRetention } from '../audit/audit-pruner';
import { AuditEventEntity } from '../audit/entities/audit-event.entity';
import { MetricsModule } from '../metrics/metrics.module';
import { CLOCK, systemClock } from '../common/clock';
import { ErrorStatusModule } from '../common/http/error-status';
import { answerModuleRouteErrorsWithEnvelope } from '../common/http/route-error-envelope';
import { SecretsKeyCheckEntity } from '../secrets/entities/secrets-key-check.entity';
import { SecretBox } from '../secrets/secret-box';
import { SecretsKeyCheck } from '../secrets/secrets-key-check.service';
import { UsersModule } from '../users/users.module';
import { RevokedTokenEntity } from './entities/revoked-token.entity';
import { TokenConfigEntity } from './entities/token-config.entity';
import { TokenKeyEntity } from './entities/token-key.entity';
import { TokenCutoffEntity } from './entities/token-cutoff.entity';
import { TokenAuthenticationGuard } from './guards/token-authentication.guard';
import { RevocationStore } from './revocation.store';
import { TokenSignInService } from './token-sign-in.service';
import { TokenConfigService } from './token-config.service';
import { TokenMintService } from './token-mint.service';
import { TokenRevocationService } from './token-revocation.service';
import { TokenVerifier } from './token-verifier.service';
import { TokenConfigStore } from './token-config.store';
import { TokenHeaderCache } from './token-header-cache';
import { VerifiedTokenCache } from './verified-token-cache';
import { TokenSigner } from './token-signer.service';
import {
  type ASYNC_OPTIONS_TYPE,
  type OPTIONS_TYPE,
  TOKEN_MODULE_OPTIONS,
  type TokenModuleAsyncOptions,
  type TokenModuleOptions,
  type TokenModuleRootOptions,
  TOKEN_OPTION_DEFAULTS,
} from './token.module-definition';
import { TokenOptionsModule } from './token-options.module';
import { TokenController } from './token.controller';
import { JwksController } from './jwks.controller';
import { TokenKeyService } from './token-key.service';

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
      TokenKeyEntity,
      RevokedTokenEntity,
      TokenCutoffEntity,
      SecretsKeyCheckEntity,
      AuditEventEntity,
    ]),
    AccessModule,
    UsersModule,
    AuditModule,
    MetricsModule,
  ],
  controllers: [TokenController, JwksController],
  providers: [
    SecretsKeyCheck,
    TokenConfigService,
    TokenKeyService,
    TokenMintService,
    TokenRevocationService,
    TokenConfigStore,
    TokenSigner,
    TokenVerifier,
    // TokenVerifier's caches, as providers so that an app can replace them (overrideProvider).
    { provide: VerifiedTokenCache, useFactory: () => new VerifiedTokenCache() },
    TokenHeaderCache,
    TokenSignInService,
    RevocationStore,
    TokenAuthenticationGuard,
    { provide: CLOCK, useValue: systemClock },
    // The audit trail's retention: the module's options, checked (auditRetention).
    {
      provide: AUDIT_RETENTION,
      inject: [TOKEN_MODULE_OPTIONS],
      useFactory: (options: TokenModuleOptions) =>
        auditRetention(
          options.auditRetentionDays ?? TOKEN_OPTION_DEFAULTS.auditRetentionDays,
          options.auditPruneInterval ?? TOKEN_OPTION_DEFAULTS.auditPruneInterval,
        ),
    },
    AuditPruner,
    {
      provide: SecretBox,
      inject: [TOKEN_MODULE_OPTIONS],
      useFactory: ({ secretsKey, previousSecretsKeys = [] }: TokenModuleOptions) =>
        new SecretBox(keyBuffer(secretsKey), previousSecretsKeys.map(keyBuffer)),
    },
  ],
  exports: [
    TokenConfigService,
    TokenKeyService,
    TokenMintService,
    TokenRevocationService,
    TokenVerifier,
    TokenSignInService,
    TokenAuthenticationGuard,
    // What the exported guards need, so that `@UseGuards(...)` works in the host's own modules.
    TokenConfigStore,
    CLOCK,
    MetricsModule,
  ],
})
export class TokenModule implements NestModule {
  constructor(
    private readonly adapterHost: HttpAdapterHost,
    @Inject(TOKEN_MODULE_OPTIONS) private readonly options: TokenModuleOptions,
  ) {}

  /** Nest calls this before it registers the routes: the moment to reach their body-parse errors. */
  configure(): void {
    const adapter = this.adapterHost.httpAdapter;
    if (adapter) answerModuleRouteErrorsWithEnvelope(adapter, this.options.errorStatus);
  }

  static forRoot<TUser = unknown>(options: TokenModuleRootOptions<TUser>): DynamicModule {
    // The module hands `principal` whatever the host's authentication put on request.user: TUser.
    const { isGlobal, ...moduleOptions } = options;
    return TokenModule.on(
      TokenOptionsModule.forRoot(moduleOptions as unknown as typeof OPTIONS_TYPE),
      isGlobal,
    );
  }

  static forRootAsync<TUser = unknown>(options: TokenModuleAsyncOptions<TUser>): DynamicModule {
    const { isGlobal, ...asyncOptions } = options;
    return TokenModule.on(
      TokenOptionsModule.forRootAsync(asyncOptions as unknown as typeof ASYNC_OPTIONS_TYPE),
      isGlobal,
    );
  }

  /**
   * TokenModule with the options that `options` holds (exported: hosts inject TOKEN_MODULE_OPTIONS),
   * the AccessOptionsModule that gives AccessModule their `principal`, and the ErrorStatusModule
   * that tells every envelope filter their `errorStatus`. `isGlobal` decides only whether
   * TokenModule's exports are global; AccessModule's and ErrorStatusModule's always are.
   */
  private static on(options: DynamicModule, isGlobal = false): DynamicModule {
    return {
      module: TokenModule,
      global: isGlobal,
      imports: [
        options,
        AccessOptionsModule.forRootAsync({
          imports: [options],
          inject: [TOKEN_MODULE_OPTIONS],
          useFactory: ({ principal }: TokenModuleOptions) => ({ principal }),
        }),
        ErrorStatusModule.forRootAsync({
          imports: [options],
          inject: [TOKEN_MODULE_OPTIONS],
          useFactory: ({ errorStatus }: TokenModuleOptions) => ({ errorStatus }),
        }),
      ],
      exports: [options],
    };
  }
}

/** A master key as given in the options: a Buffer, or its base64. */
function keyBuffer(key: Buffer | string): Buffer {
  return typeof key === 'string' ? Buffer.from(key, 'base64') : key;
}
