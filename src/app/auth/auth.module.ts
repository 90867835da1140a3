import { Module } from '@nestjs/common';
import { APP_GUARD } from '@nestjs/core';
import { TypeOrmModule } from '@nestjs/typeorm';
import { AuditModule } from '../../audit/audit.module';
import { MetricsModule } from '../../metrics/metrics.module';
import { TokenAuthenticationGuard } from '../../token/guards/token-authentication.guard';
import { RedisConnection } from '../redis/redis-connection';
import { MasterKeyModule } from '../secrets/master-key.module';
import { UsersModule } from '../../users/users.module';
import { AdminBootstrapService } from './admin-bootstrap.service';
import { CredentialCache } from './credential-cache';
import { CredentialVerifier } from './credential-verifier.service';
import { DeviceCookies } from './device-cookies';
import { KnownAddresses } from './known-addresses';
import {
  InMemoryLoginAttemptStore,
  LOGIN_ATTEMPT_STORE,
  RateLimiterLoginAttemptStore,
} from './login-attempt.store';
import { LoginAttempts } from './login-attempts';
import { PasswordWork } from './password-work';
import { SessionEntity } from './entities/session.entity';
import { AuthenticationGuard } from './guards/authentication.guard';
import { SameOriginGuard } from './guards/same-origin.guard';
import { SessionController } from './session.controller';
import { SessionService } from './session.service';

/** The standalone service's own authentication: HTTP Basic and sessions. A host app brings its own instead. */
@Module({
  imports: [
    TypeOrmModule.forFeature([SessionEntity]),
    UsersModule,
    AuditModule,
    MetricsModule,
    MasterKeyModule,
  ],
  controllers: [SessionController],
  providers: [
    SessionService,
    CredentialCache,
    CredentialVerifier,
    LoginAttempts,
    PasswordWork,
    // With REDIS_URL, every instance counts in one place: N instances do not give N times the
    // guesses. While Redis does not answer, the limiter counts in process (RedisConnection.limiter).
    {
      provide: LOGIN_ATTEMPT_STORE,
      inject: [RedisConnection],
      useFactory: (redis: RedisConnection) => {
        const limiter = redis.limiter('login');
        return limiter
          ? new RateLimiterLoginAttemptStore(limiter)
          : new InMemoryLoginAttemptStore();
      },
    },
    KnownAddresses,
    DeviceCookies,
    AdminBootstrapService,
    // In this order: the cross-site check (before any password work), then a presented token,
    // then Basic credentials or the session cookie.
    { provide: APP_GUARD, useClass: SameOriginGuard },
    { provide: APP_GUARD, useExisting: TokenAuthenticationGuard },
    { provide: APP_GUARD, useClass: AuthenticationGuard },
  ],
})
export class AuthModule {}
