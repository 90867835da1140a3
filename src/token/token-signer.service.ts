import { Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Claims } from './token-claims';
import type { ResolvedTokenConfig } from './token-config.store';

/** A token's claims: the payload's, then the ones the service sets. */
export type SignedClaims = Record<string, Claims[string] | number> & {
  iat: number;
  exp: number;
  jti: string;
};

/**
 * Signs with @nestjs/jwt, always with the configuration's cached KeyObject: handing jsonwebtoken a
 * string secret makes it parse the key on every call, which costs far more than the signature.
 */
@Injectable()
export class TokenSigner {
  constructor(private readonly jwt: JwtService) {}

  sign(claims: SignedClaims, { config, key }: ResolvedTokenConfig): string {
    return this.jwt.sign(claims, {
      privateKey: key,
      algorithm: config.algorithm,
      header: { alg: config.algorithm, typ: 'JWT', kid: config.name },
    });
  }
}
