import { DynamicModule, Module } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { AuthModule } from './auth/auth.module';
import { ChangesModule } from './changes/changes.module';
import { type AppSettings, fixedSettingsConfig, settingsConfig } from '../config/settings.config';
import type { Settings } from '../config/settings';
import { DatabaseModule } from './database/database.module';
import { HealthModule } from './health/health.module';
import { RedisModule } from './redis/redis.module';
import { MASTER_KEY, PREVIOUS_MASTER_KEYS } from './secrets/master-key';
import { MasterKeyModule } from './secrets/master-key.module';
import { TokenModule } from '../token/token.module';

export interface AppModuleOptions {
  /** Settings to use instead of reading the environment (tests, embedding tools). */
  settings?: Settings;
}

/** The standalone service: the token API behind its own Basic and session authentication. */
@Module({})
export class AppModule {
  static forRoot(options: AppModuleOptions = {}): DynamicModule {
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({
          isGlobal: true,
          ignoreEnvFile: true,
          load: [options.settings ? fixedSettingsConfig(options.settings) : settingsConfig],
        }),
        DatabaseModule,
        RedisModule,
        ChangesModule,
        TokenModule.forRootAsync({
          // AuthModule, which does not import TokenModule, puts its TokenAuthenticationGuard and
          // clock to use.
          isGlobal: true,
          imports: [MasterKeyModule],
          inject: [settingsConfig.KEY, MASTER_KEY, PREVIOUS_MASTER_KEYS],
          useFactory: (settings: AppSettings, masterKey: Buffer, previousKeys: Buffer[]) => ({
            secretsKey: masterKey,
            previousSecretsKeys: previousKeys,
            maxExpire: settings.tokenMaxExpire,
            minSecretBytes: settings.tokenMinSecretBytes,
            clockLeeway: settings.tokenClockLeeway,
            errorStatus: settings.errorStatus,
            auditRetentionDays: settings.auditRetentionDays,
            auditPruneInterval: settings.auditPruneInterval,
            jwksMaxAge: settings.jwksMaxAge,
          }),
        }),
        AuthModule,
        HealthModule,
      ],
    };
  }
}
