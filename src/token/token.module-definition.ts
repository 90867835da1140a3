import { type ConfigurableModuleAsyncOptions, ConfigurableModuleBuilder } from '@nestjs/common';
import type { PrincipalReader } from '../access/principal';
import type { ErrorStatusMode } from '../common/http/error-status';

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
  /**
   * Master keys that `secretsKey` replaces, during an online rotation: secrets sealed under them
   * (and a key check stored by them) still open; new ones are sealed under `secretsKey` only.
   * Once every sealed value is re-sealed under `secretsKey` (the standalone service's
   * `npm run secrets:rotate`), drop them. Same form as `secretsKey`. Default: none.
   */
  previousSecretsKeys?: Array<Buffer | string>;
  /** Reads the principal from `request.user`. Default: `user.username`, `user.usertype`, `user.via`. */
  principal?: PrincipalReader<TUser>;
  /** Longest lifetime, in seconds, a configuration may give its tokens. Default 2592000 (30 days). */
  maxExpire?: number;
  /** HMAC secrets shorter than this many bytes are refused; 0 (default) only warns below 32. */
  minSecretBytes?: number;
  /** Seconds of clock difference tolerated when checking a token's `exp` and `nbf`. Default 30. */
  clockLeeway?: number;
  /**
   * `'200'`: errors of the Datafor API's routes answer HTTP 200 with the envelope, `code` keeping
   * their status (429 and 5xx keep theirs), as Datafor's own API does. Default `'http'`.
   */
  errorStatus?: ErrorStatusMode;
  /**
   * Audit rows older than this many days are deleted in the background; 0 keeps every row.
   * Whole days from 0 to 36500. Default 365 (a year of audit history, as PCI DSS 10.5.1 asks).
   */
  auditRetentionDays?: number;
  /** Seconds between two passes of that pruning, a tenth more or less. From 1 to 86400; default 60. */
  auditPruneInterval?: number;
  /**
   * Seconds consumers may cache `/.well-known/jwks.json` (its Cache-Control max-age). A rotated
   * service-held key is published this long before it signs, so that no consumer meets an unknown
   * kid. Default 300.
   */
  jwksMaxAge?: number;
}

/** The documented defaults of the optional settings, in one place. */
export const TOKEN_OPTION_DEFAULTS = {
  maxExpire: 2592000,
  minSecretBytes: 0,
  clockLeeway: 30,
  auditRetentionDays: 365,
  auditPruneInterval: 60,
  jwksMaxAge: 300,
} as const;

/**
 * How far past now, in seconds, a token's `exp` may lie: `maxExpire`, and the clock leeway on top.
 * Verification refuses a token that would live longer; a revocation by `jti` is kept this long.
 */
export function longestTokenLifetime(options: TokenModuleOptions): number {
  return (
    (options.maxExpire ?? TOKEN_OPTION_DEFAULTS.maxExpire) +
    (options.clockLeeway ?? TOKEN_OPTION_DEFAULTS.clockLeeway)
  );
}

/** Builds the module that holds TOKEN_MODULE_OPTIONS (TokenOptionsModule), from a value or a factory. */
export const {
  ConfigurableModuleClass: ConfigurableTokenOptionsModule,
  MODULE_OPTIONS_TOKEN: TOKEN_MODULE_OPTIONS,
  OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<TokenModuleOptions>().setClassMethodName('forRoot').build();

/**
 * `isGlobal: true` makes TokenModule's exports (TokenAuthenticationGuard, TokenMintService, ...)
 * visible in every host module, not only in the one that imports it. Default false.
 */
export interface TokenModuleScope {
  isGlobal?: boolean;
}

/** `forRoot`'s options: the module's, and `isGlobal`. */
export type TokenModuleRootOptions<TUser = unknown> = TokenModuleOptions<TUser> & TokenModuleScope;

/** `forRootAsync`'s options: a factory (or class) that gives the module's options, and `isGlobal`. */
export type TokenModuleAsyncOptions<TUser = unknown> = ConfigurableModuleAsyncOptions<
  TokenModuleOptions<TUser>
> &
  TokenModuleScope;
