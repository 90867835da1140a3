import { Injectable } from '@nestjs/common';
import { UserProvisioner } from '../users/user-provisioner.service';
import { ADMINISTRATOR, DEFAULT_USER_TYPE, splitRoles } from '../users/user-types';
import type { TokenUser } from './token-user';
import { TokenVerifier } from './token-verifier.service';

/** Why a valid token signs nobody in. */
export type TokenSignInRefusal = 'unknown user' | 'user disabled' | 'administrator refused';

export class TokenSignInError extends Error {
  constructor(
    readonly reason: TokenSignInRefusal,
    message: string,
  ) {
    super(message);
  }
}

/** A profile field from a claim: a string without control characters (the databases differ on them), else nothing. */
const claimText = (value: unknown) =>
  typeof value === 'string' && value !== '' && !/[\u0000-\u001f]/.test(value)
    ? value.slice(0, 256)
    : undefined;
const claimList = (value: unknown): string[] =>
  Array.isArray(value)
    ? value.filter((item): item is string => typeof item === 'string')
    : typeof value === 'string'
      ? [value]
      : [];

/**
 * Single sign-on: the user a valid token names, created on first use when the configuration
 * allows it (the same provisioner as minting). Never an Administrator from a claim.
 */
@Injectable()
export class TokenSignInService {
  constructor(
    private readonly verifier: TokenVerifier,
    private readonly provisioner: UserProvisioner,
  ) {}

  /** @param provision create an unknown user now (false where the request cannot succeed anyway) */
  async signIn(token: string, tokenName?: string, provision = true): Promise<TokenUser> {
    const { config, claims, username } = await this.verifier.verify(token, tokenName);
    const outcome = await this.provisioner.provision({
      username,
      create: config.initUser && provision,
      newUser: () => {
        const initial = splitRoles(config.initRoles);
        const claimed = splitRoles(claimList(claims.roles).slice(0, 64));
        return {
          profile: {
            name: claimText(claims[config.fieldmap.name ?? 'name']),
            email: claimText(claims[config.fieldmap.email ?? 'email']),
          },
          usertype:
            claimed.types.find((type) => type !== ADMINISTRATOR) ??
            initial.types[0] ??
            DEFAULT_USER_TYPE,
          roles: [...new Set([...initial.roles, ...claimed.roles])],
          passwordHash: config.initPasswordHash,
        };
      },
    });
    if (outcome.status === 'unknown') {
      if (!config.initUser)
        throw new TokenSignInError('unknown user', `user ${username} does not exist`);
      // Would be created on a request it may make: a token session all the same, and nothing stored.
      const initial = splitRoles(config.initRoles);
      return {
        userid: '',
        username,
        usertype: initial.types[0] ?? DEFAULT_USER_TYPE,
        roles: initial.roles,
        via: 'token',
        configuration: config.name,
      };
    }
    if (outcome.status === 'disabled')
      throw new TokenSignInError('user disabled', `user ${username} is disabled`);
    if (outcome.status === 'refused') {
      throw new TokenSignInError(
        'administrator refused',
        `configuration ${config.name} would create ${username} as an Administrator, which a token may not`,
      );
    }
    const { user } = outcome;
    return {
      userid: user.id,
      username: user.username,
      usertype: user.usertype,
      roles: user.roles,
      via: 'token',
      configuration: config.name,
      jti: typeof claims.jti === 'string' ? claims.jti : undefined,
    };
  }
}
