import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { PrincipalReader } from './principal';

export interface AccessModuleOptions {
  /** Reads the principal from `request.user`. Default: `user.username`, `user.usertype`, `user.via`. */
  principal?: PrincipalReader;
}

export const {
  ConfigurableModuleClass: ConfigurableAccessModule,
  MODULE_OPTIONS_TOKEN: ACCESS_MODULE_OPTIONS,
} = new ConfigurableModuleBuilder<AccessModuleOptions>().setClassMethodName('forRoot').build();
