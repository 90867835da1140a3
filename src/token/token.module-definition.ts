import { ConfigurableModuleBuilder } from '@nestjs/common';

/** What TokenModule reads from the authenticated caller: who it is and which user type it has. */
export interface Principal {
  username: string;
  usertype: string;
  /** How the caller signed in; `'token'` marks a session opened with an SSO token (never an admin). */
  via?: string;
}

export interface TokenModuleOptions {
  /**
   * 32-byte master key (a Buffer, or base64) that seals configuration secrets at rest with
   * AES-256-GCM. Required: a host app keeps it in its own secret store.
   */
  secretsKey: Buffer | string;
  /** Reads the principal from `request.user`. Default: `user.username`, `user.usertype`, `user.via`. */
  principal?: (user: unknown) => Principal | undefined;
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
