import { ConfigurableModuleBuilder, Global, Module } from '@nestjs/common';
import type { PrincipalReader } from './principal';

export interface AccessModuleOptions {
  /** Reads the principal from `request.user`. Default: `user.username`, `user.usertype`, `user.via`. */
  principal?: PrincipalReader;
}

export const {
  ConfigurableModuleClass: ConfigurableAccessOptionsModule,
  MODULE_OPTIONS_TOKEN: ACCESS_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<AccessModuleOptions>().setClassMethodName('forRoot').build();

/**
 * Holds ACCESS_MODULE_OPTIONS (the host's `principal` reader) for AccessModule's PrincipalService.
 * Global, as AccessModule is; TokenModule sets it up once from its own options.
 */
@Global()
@Module({ exports: [ACCESS_MODULE_OPTIONS] })
export class AccessOptionsModule extends ConfigurableAccessOptionsModule {}
