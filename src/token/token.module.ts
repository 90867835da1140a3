import { Module } from '@nestjs/common';
import { JwtModule } from '@nestjs/jwt';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../audit/audit.module';
import { CLOCK, systemClock } from '../common/clock';
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
  ConfigurableModuleClass,
  TOKEN_MODULE_OPTIONS,
  type TokenModuleOptions,
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
    CLOCK,
  ],
})
export class TokenModule extends ConfigurableModuleClass {}
