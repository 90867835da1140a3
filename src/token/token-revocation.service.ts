import { Inject, Injectable } from '@nestjs/common';
import { type Actor, AuditService } from '../audit/audit.service';
import { type Clock, CLOCK } from '../common/clock';
import { badField } from '../common/http/bad-request';
import { configNotFound, TokenConfigStore } from './token-config.store';
import { RevocationStore } from './revocation.store';
import { TokenRejectedError, TokenVerifier } from './token-verifier.service';
import type { RevokeTokenDto } from './dto/revoke-token.dto';
import type { VerifyTokenResponseDto } from './dto/verify-token.dto';
import {
  longestTokenLifetime,
  TOKEN_MODULE_OPTIONS,
  type TokenModuleOptions,
} from './token.module-definition';

/** Revokes tokens, and says what a token is (introspection), revocations included. */
@Injectable()
export class TokenRevocationService {
  private readonly longestLifetime: number;

  constructor(
    private readonly store: TokenConfigStore,
    private readonly revocations: RevocationStore,
    private readonly audit: AuditService,
    private readonly verifier: TokenVerifier,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TOKEN_MODULE_OPTIONS) options: TokenModuleOptions,
  ) {
    this.longestLifetime = longestTokenLifetime(options);
  }

  /** Revokes one token by `jti`, or every token of a configuration issued before an instant (default now). */
  async revoke({ jti, name, before }: RevokeTokenDto, actor: Actor): Promise<void> {
    if ((jti === undefined) === (name === undefined))
      throw badField('body', 'must give either jti or name');
    const now = Math.floor(this.clock.now() / 1000);
    if (jti !== undefined) {
      if (before !== undefined) throw badField('before', 'goes with name, not with jti');
      // The token's own expiry is unknown here: keep the entry as long as any token can live.
      const expiresAt = (now + this.longestLifetime) * 1000;
      await this.audit.recordChange(
        (manager) => this.revocations.revokeToken(jti, expiresAt, manager),
        () => [{ actor, action: 'token.revoke', target: jti, details: { kind: 'jti' } }],
      );
      await this.revocations.changed();
      return;
    }
    if (!(await this.store.find(name!))) throw configNotFound(name!);
    // Seconds are the tokens' resolution: "now" revokes the tokens of the current second too.
    const cutoff = before ?? now + 1;
    await this.audit.recordChange(
      (manager) => this.revocations.revokeIssuedBefore(name!, cutoff, manager),
      () => [
        {
          actor,
          action: 'token.revoke',
          target: name!,
          details: { kind: 'before', before: cutoff },
        },
      ],
    );
    await this.revocations.changed();
  }

  /** What a token is, RFC 7662 style: never an error for a bad token, `active: false` and the reason. */
  async introspect(token: string): Promise<VerifyTokenResponseDto> {
    try {
      const { config, claims, username } = await this.verifier.verify(token);
      const number = (value: unknown) => (typeof value === 'number' ? value : undefined);
      return {
        success: true,
        active: true,
        name: config.name,
        username,
        exp: number(claims.exp),
        iat: number(claims.iat),
        jti: typeof claims.jti === 'string' ? claims.jti : undefined,
      };
    } catch (error) {
      if (error instanceof TokenRejectedError)
        return { success: true, active: false, reason: error.reason };
      throw error;
    }
  }
}
