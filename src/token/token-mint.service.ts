import { randomUUID } from 'node:crypto';
import {
  ConflictException,
  ForbiddenException,
  Inject,
  Injectable,
  NotFoundException,
} from '@nestjs/common';
import { type Actor, AuditService } from '../audit/audit.service';
import { type Clock, CLOCK } from '../common/clock';
import { badField } from '../common/http/bad-request';
import { UserProvisioner } from '../users/user-provisioner.service';
import { ADMINISTRATOR, DEFAULT_USER_TYPE, splitRoles } from '../users/user-types';
import { PROFILE_FIELDS } from '../users/users.service';
import { GenerateTokenDto } from './dto/generate-token.dto';
import { buildClaims } from './token-claims';
import { liveVersions } from './key-versions';
import { configNotFound, type ResolvedTokenConfig, TokenConfigStore } from './token-config.store';
import { secretsEqual } from './token-keys';
import { TokenSigner } from './token-signer.service';
import { isHmac } from './token.constants';

export interface MintedToken {
  expire: number;
  token: string;
}

/** The rules of minting (contract section 3): signs a token for a user, created on first use. */
@Injectable()
export class TokenMintService {
  constructor(
    private readonly store: TokenConfigStore,
    private readonly signer: TokenSigner,
    private readonly provisioner: UserProvisioner,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  async generate(
    { name, privateKey, payload }: GenerateTokenDto,
    actor: Actor,
  ): Promise<MintedToken> {
    const resolved = await this.store.resolve(name);
    if (!resolved) throw configNotFound(name);
    const { config } = resolved;
    if (!config.enabled) throw new ConflictException(`token configuration ${name} is disabled`);
    const now = this.clock.now();
    if (config.keyholder !== 'service' && !isHmac(config.algorithm)) {
      throw badField(
        'name',
        `names a ${config.algorithm} configuration, which only verifies tokens its owner signs`,
      );
    }
    if (!this.proves(privateKey, resolved, now)) {
      throw badField('privateKey', "does not match the configuration's secret");
    }
    const claims = buildClaims(payload, config.fieldmap);
    const requested = splitRoles(payload.roles ?? []);
    if (requested.types.includes(ADMINISTRATOR)) {
      throw new ForbiddenException('a payload cannot make a user an Administrator');
    }
    if (requested.types.length > 1)
      throw badField('payload.roles', 'may name at most one user type');

    const outcome = await this.provisioner.provision({
      username: payload.username,
      create: config.initUser,
      newUser: () => {
        const initial = splitRoles(config.initRoles);
        return {
          profile: Object.fromEntries(PROFILE_FIELDS.map((field) => [field, payload[field]])),
          usertype: requested.types[0] ?? initial.types[0] ?? DEFAULT_USER_TYPE,
          roles: [...new Set([...initial.roles, ...requested.roles])],
          password: payload.password,
          passwordHash: config.initPasswordHash,
        };
      },
    });
    if (outcome.status === 'unknown') {
      throw new NotFoundException(
        `user ${payload.username} does not exist and ${name} does not create users`,
      );
    }
    if (outcome.status === 'disabled')
      throw new ConflictException(`user ${payload.username} is disabled`);
    if (outcome.status === 'refused') {
      throw new ConflictException(
        `token configuration ${name} would create ${payload.username} as an Administrator: remove Administrator from its initroles`,
      );
    }

    const iat = Math.floor(now / 1000);
    const jti = randomUUID();
    const token = this.signer.sign(
      { ...claims, iat, exp: iat + config.expire, jti },
      resolved,
      now,
    );
    await this.audit.record({
      actor,
      action: 'token.mint',
      target: name,
      details: { username: payload.username, jti, userCreated: outcome.status === 'created' },
    });
    return { expire: config.expire, token };
  }

  /**
   * Whether `privateKey` is the configuration's secret: during an overlap, either live secret of
   * an issuer-held key (the ERP may not have switched yet). Every candidate is compared, in
   * constant time each.
   */
  private proves(privateKey: string, resolved: ResolvedTokenConfig, now: number): boolean {
    if (resolved.config.keyholder === 'service') return secretsEqual(privateKey, resolved.secret);
    let matched = false;
    for (const { secret } of liveVersions(resolved, now))
      if (secret !== undefined && secretsEqual(privateKey, secret)) matched = true;
    return matched;
  }
}
