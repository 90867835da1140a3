import { ConfigType, registerAs } from '@nestjs/config';
import { parseSettings, type Settings } from './settings';

const NAMESPACE = 'settings';

/** The one place that reads process.env. Inject with `@Inject(settingsConfig.KEY)`. */
export const settingsConfig = registerAs(NAMESPACE, () => parseSettings(process.env));

/** The same injection key, holding settings given in code (tests, tools) instead of the environment's. */
export const fixedSettingsConfig = (settings: Settings) => registerAs(NAMESPACE, () => settings);

export type AppSettings = ConfigType<typeof settingsConfig>;
