import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import { type Clock, CLOCK } from '../common/clock';
import { CONFIG_NAME_PATTERN } from '../common/validation/decorators';
import { canonicalUsername } from '../common/validation/username';
import type { TokenConfigEntity } from './entities/token-config.entity';
import { RevocationStore } from './revocation.store';
import { MetricsService } from '../metrics/metrics.service';
import { liveVersions } from './key-versions';
import { type KeyVersion, type ResolvedTokenConfig, TokenConfigStore } from './token-config.store';
import { configNameOfKid } from './token-keys';
import { TOKEN_ALGORITHMS, type TokenRejection } from './token.constants';
import { TokenHeaderCache } from './token-header-cache';
import { TokenRejectedError } from './token-rejected.error';
import {
  type Candidate,
  deepFreeze,
  type VerifiedEntry,
  VerifiedTokenCache,
} from './verified-token-cache';
import {
  longestTokenLifetime,
  TOKEN_MODULE_OPTIONS,
  TOKEN_OPTION_DEFAULTS,
  type TokenModuleOptions,
} from './token.module-definition';

export type { TokenRejection };
export { TokenRejectedError };

export interface VerifiedToken {
  config: TokenConfigEntity;
  /** Frozen: tokens verified lately share theirs (VerifiedTokenCache). */
  claims: Readonly<Record<string, unknown>>;
  username: string;
}

/**
 * Checks a token made by this service or by an issuer that holds a configuration's key: the key
 * version named by `kid` (a configuration's name: each of its live versions; no kid: each live
 * version of each enabled configuration that fits), only that configuration's
 * algorithm (never `none`, never HS against a public key), `exp`/`nbf` with a small leeway, and revocations.
 * A token verified lately skips the signature and the parsing (VerifiedTokenCache), never the
 * checks of time and revocation. Both caches are TokenModule's providers.
 */
@Injectable()
export class TokenVerifier {
  private readonly leeway: number;
  private readonly maxLifetime: number;

  constructor(
    private readonly configs: TokenConfigStore,
    private readonly revocations: RevocationStore,
    private readonly jwt: JwtService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TOKEN_MODULE_OPTIONS) options: TokenModuleOptions,
    private readonly verified: VerifiedTokenCache,
    private readonly headers: TokenHeaderCache,
    private readonly metrics: MetricsService,
  ) {
    this.leeway = options.clockLeeway ?? TOKEN_OPTION_DEFAULTS.clockLeeway;
    this.maxLifetime = longestTokenLifetime(options);
  }

  /** @param tokenName the query parameter the token came in, if it came in one */
  async verify(token: string, tokenName?: string): Promise<VerifiedToken> {
    const header = this.headers.read(token);
    if (
      typeof header.alg !== 'string' ||
      !(TOKEN_ALGORITHMS as readonly string[]).includes(header.alg)
    ) {
      throw new TokenRejectedError('algorithm not allowed');
    }
    // RFC 7515 4.1.11: `crit` names extensions the recipient must understand; this one understands none.
    if (header.crit !== undefined) throw new TokenRejectedError('unsupported critical header');
    const nowMs = this.clock.now();
    const candidates = await this.candidates(header.kid, tokenName, nowMs);
    if (candidates.length === 0) throw new TokenRejectedError('unknown configuration');
    const fitting = candidates.filter(({ resolved }) => resolved.config.algorithm === header.alg);
    if (fitting.length === 0) throw new TokenRejectedError('algorithm not allowed');

    const now = Math.floor(nowMs / 1000);
    const key = this.verified.keyOf(token);
    const known = this.verified.find(key, fitting);
    if (known) {
      try {
        // The times jsonwebtoken checked when the signature was, then this service's own.
        if (typeof known.claims.nbf === 'number' && known.claims.nbf > now + this.leeway)
          throw new TokenRejectedError('not yet valid');
        if (typeof known.claims.exp === 'number' && now >= known.claims.exp + this.leeway)
          throw new TokenRejectedError('expired');
        this.checkTimes(known.claims, now);
      } catch (error) {
        this.verified.forget(key);
        throw error;
      }
      return this.unlessRevoked(known);
    }

    // The error is made only when every candidate refused: an Error captures a stack trace.
    let rejection: TokenRejectedError | undefined;
    for (const { resolved, versions } of fitting) {
      for (const version of versions) {
        try {
          const verified = this.verifyWith(token, resolved, version, now);
          this.verified.remember(key, verified);
          return await this.unlessRevoked(verified);
        } catch (error) {
          if (!(error instanceof TokenRejectedError)) throw error;
          if (error.reason !== 'bad signature' || !rejection) rejection = error;
        }
      }
    }
    throw rejection ?? new TokenRejectedError('bad signature');
  }

  private async candidates(kid: unknown, tokenName: string | undefined, now: number): Promise<Candidate[]> {
    if (typeof kid === 'string') {
      const name = configNameOfKid(kid);
      // Only a name a configuration can have reaches the store (and its cache).
      if (!CONFIG_NAME_PATTERN.test(name)) return [];
      const resolved = await this.configs.resolve(name);
      if (!resolved?.config.enabled) return [];
      const live = liveVersions(resolved, now);
      // A kid of no live version (retired, or never made) fails as a bad signature would. The
      // configuration's name may stand for any version: the one of that kid (minted before the
      // first rotation) is tried first, sparing the failed HMAC of the current one.
      const versions =
        kid === name
          ? [...live].sort((a, b) => Number(b.kid === kid) - Number(a.kid === kid))
          : live.filter((version) => version.kid === kid);
      return [{ resolved, versions }];
    }
    const enabled = await this.configs.resolveEnabled();
    return enabled
      .filter(({ config }) => !tokenName || config.tokenName === tokenName)
      .map((resolved) => ({ resolved, versions: liveVersions(resolved, now) }));
  }

  /** Signature, claims and times of `token` against one key version; revocations aside. */
  private verifyWith(
    token: string,
    resolved: ResolvedTokenConfig,
    version: KeyVersion,
    now: number,
  ): VerifiedEntry {
    const { config } = resolved;
    let claims: Record<string, unknown>;
    try {
      claims = this.jwt.verify(token, {
        publicKey: version.verifyKey as unknown as Buffer,
        algorithms: [config.algorithm],
        clockTolerance: this.leeway,
        clockTimestamp: now,
      });
    } catch (error) {
      const name = (error as Error).name;
      throw new TokenRejectedError(
        name === 'TokenExpiredError'
          ? 'expired'
          : name === 'NotBeforeError'
            ? 'not yet valid'
            : 'bad signature',
      );
    }
    this.checkTimes(claims, now);
    const username = canonicalUsername(claims[config.fieldmap.username] ?? claims[config.name]);
    if (username === undefined) throw new TokenRejectedError('no username');
    return { resolved, version, claims: deepFreeze(claims), username };
  }

  private checkTimes(claims: Readonly<Record<string, unknown>>, now: number): void {
    // A token without exp would never expire, and one living past the longest lifetime would
    // outlive its revocation entry: neither signs anyone in.
    if (typeof claims.exp !== 'number') throw new TokenRejectedError('no expiry');
    if (claims.exp > now + this.maxLifetime) throw new TokenRejectedError('lifetime too long');
    // Cut-off revocations compare iat: one set in the future would outlive them. A token without
    // iat (an issuer may leave it out) counts as issued before every cut-off.
    if (claims.iat !== undefined) {
      if (typeof claims.iat !== 'number') throw new TokenRejectedError('iat not a number');
      if (claims.iat > now + this.leeway) throw new TokenRejectedError('issued in the future');
    }
  }

  private async unlessRevoked({
    resolved: { config },
    version,
    claims,
    username,
  }: VerifiedEntry): Promise<VerifiedToken> {
    if (await this.revocations.check(config.name, claims)) throw new TokenRejectedError('revoked');
    this.metrics.keyUse(config.name, version.kid);
    return { config, claims, username };
  }
}
