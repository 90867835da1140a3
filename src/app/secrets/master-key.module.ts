import { Module } from '@nestjs/common';
import { type AppSettings, settingsConfig } from '../../config/settings.config';
import {
  loadOrCreateMasterKey,
  MASTER_KEY,
  PREVIOUS_MASTER_KEYS,
  previousMasterKeys,
} from './master-key';

/**
 * The standalone service's master key, read (or made) once: MASTER_KEY, from SECRETS_KEY or
 * DATA_DIR/secrets.key. TokenModule seals configuration secrets with it; the device cookies are
 * signed with a key derived from it. PREVIOUS_MASTER_KEYS: SECRETS_KEY_PREVIOUS, during a rotation.
 */
@Module({
  providers: [
    {
      provide: MASTER_KEY,
      inject: [settingsConfig.KEY],
      useFactory: (settings: AppSettings): Buffer =>
        loadOrCreateMasterKey(settings.secretsKey, settings.dataDir).key,
    },
    {
      provide: PREVIOUS_MASTER_KEYS,
      inject: [settingsConfig.KEY],
      useFactory: (settings: AppSettings): Buffer[] =>
        previousMasterKeys(settings.secretsKeyPrevious),
    },
  ],
  exports: [MASTER_KEY, PREVIOUS_MASTER_KEYS],
})
export class MasterKeyModule {}
