import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Claims } from './token-claims';
import { signingVersion } from './key-versions';
import type { ResolvedTokenConfig } from './token-config.store';

/** A token's claims: the payload's, then the ones the service sets. */
export type SignedClaims = Record<string, Claims[string] | number> & {
  iat: number;
  exp: number;
  jti: string;
};

/**
 * Signs with @nestjs/jwt, always with a cached KeyObject of the version that signs at `now` (its
 * kid in the header): handing jsonwebtoken a string secret makes it parse the key on every call,
 * which costs far more than the signature.
 */
@Injectable()
export class TokenSigner {
  constructor(private readonly jwt: JwtService) {}

  sign(claims: SignedClaims, resolved: ResolvedTokenConfig, now: number): string {
    const { algorithm } = resolved.config;
    const version = signingVersion(resolved, now);
    return this.jwt.sign(claims, {
      privateKey: version.signingKey ?? version.verifyKey,
      algorithm,
      header: { alg: algorithm, typ: 'JWT', kid: version.kid },
    });
  }
}
