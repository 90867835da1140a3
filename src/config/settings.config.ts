import { ConfigType, registerAs } from '@nestjs/config';
import { parseSettings, type Settings, SettingsError } from './settings';

const NAMESPACE = 'settings';

/** The one place that reads process.env. Inject with `@Inject(settingsConfig.KEY)`. */
export const settingsConfig = registerAs(NAMESPACE, () => parseSettings(process.env));

/** The same injection key, holding settings given in code (tests, tools) instead of the environment's. */
export const fixedSettingsConfig = (settings: Settings) => registerAs(NAMESPACE, () => settings);

export type AppSettings = ConfigType<typeof settingsConfig>;

/** The new master key for `npm run secrets:rotate` (NEW_SECRETS_KEY), if the operator gives one. */
export function readNewSecretsKey(): Buffer | undefined {
  const value = process.env.NEW_SECRETS_KEY?.trim();
  if (!value) return undefined;
  if (!/^[A-Za-z0-9+/]{43}=$/.test(value)) {
    throw new SettingsError(
      'Invalid configuration: NEW_SECRETS_KEY must be 32 bytes in base64 (44 characters).',
    );
  }
  return Buffer.from(value, 'base64');
}
