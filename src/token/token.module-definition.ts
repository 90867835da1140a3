import { type ConfigurableModuleAsyncOptions, ConfigurableModuleBuilder } from '@nestjs/common';

/** What TokenModule reads from the authenticated caller: who it is and which user type it has. */
export interface Principal {
  username: string;
  usertype: string;
  /** How the caller signed in; `'token'` marks a session opened with an SSO token (never an admin). */
  via?: string;
}

/**
 * `TUser` is what the host's authentication puts on `request.user` (`TokenModule.forRoot<TUser>`,
 * usually inferred from `principal`'s parameter).
 */
export interface TokenModuleOptions<TUser = unknown> {
  /**
   * 32-byte master key (a Buffer, or base64) that seals configuration secrets at rest with
   * AES-256-GCM. Required: a host app keeps it in its own secret store.
   */
  secretsKey: Buffer | string;
  /** Reads the principal from `request.user`. Default: `user.username`, `user.usertype`, `user.via`. */
  principal?: (user: TUser) => Principal | undefined;
  /** Longest lifetime, in seconds, a configuration may give its tokens. Default 2592000 (30 days). */
  maxExpire?: number;
  /** HMAC secrets shorter than this many bytes are refused; 0 (default) only warns below 32. */
  minSecretBytes?: number;
  /** Seconds of clock difference tolerated when checking a token's `exp` and `nbf`. Default 30. */
  clockLeeway?: number;
}

/** The documented defaults of the optional settings, in one place. */
export const TOKEN_OPTION_DEFAULTS = {
  maxExpire: 2592000,
  minSecretBytes: 0,
  clockLeeway: 30,
} as const;

export const {
  ConfigurableModuleClass,
  MODULE_OPTIONS_TOKEN: TOKEN_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<TokenModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({
    ...definition,
    global: extras.isGlobal,
  }))
  .build();

/** `forRoot`'s options: the module's, and `isGlobal` to use its guards in every host module. */
export type TokenModuleRootOptions<TUser = unknown> = TokenModuleOptions<TUser> & {
  isGlobal?: boolean;
};

/** `forRootAsync`'s options: a factory (or class) that gives the module's options. */
export type TokenModuleAsyncOptions<TUser = unknown> = ConfigurableModuleAsyncOptions<
  TokenModuleOptions<TUser>
> & { isGlobal?: boolean };
