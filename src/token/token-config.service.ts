import { Inject, Injectable } from '@nestjs/common';
import { type Actor, AuditService } from '../audit/audit.service';
import { type Clock, CLOCK } from '../common/clock';
import { badField } from '../common/http/bad-request';
import { PasswordHasher } from '../users/password-hasher.service';
import { ADMINISTRATOR, splitRoles } from '../users/user-types';
import { UpdateTokenConfigDto } from './dto/update-token-config.dto';
import { TokenConfigViewDto } from './dto/token-config-view.dto';
import { type FieldMap, TokenConfigEntity } from './entities/token-config.entity';
import {
  configNotFound,
  retryWhenRaced,
  type CurrentKey,
  TokenConfigStore,
} from './token-config.store';
import { generateSigningKey, KeyFormatError, keyFor, newKid, secretsEqual } from './token-keys';
import {
  TOKEN_MODULE_OPTIONS,
  TOKEN_OPTION_DEFAULTS,
  type TokenModuleOptions,
} from './token.module-definition';
import {
  isHmac,
  type KeyHolder,
  keyFamily,
  MASK,
  RECOMMENDED_SECRET_BYTES,
  SERVICE_CLAIMS,
  TOKEN_DEFAULTS,
  TokenAlgorithm,
} from './token.constants';

export interface SaveOutcome {
  created: boolean;
  warning?: string;
}

const MAX_BATCH = 1000;
/** Saves of a configuration raced by concurrent ones, before a 409: one loss is the usual most. */
const SAVE_ATTEMPTS = 3;

/** The rules of token configurations (contract section 2): list, read, save and delete them. */
@Injectable()
export class TokenConfigService {
  private readonly maxExpire: number;
  private readonly minSecretBytes: number;

  constructor(
    private readonly store: TokenConfigStore,
    private readonly hasher: PasswordHasher,
    private readonly audit: AuditService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TOKEN_MODULE_OPTIONS) options: TokenModuleOptions,
  ) {
    this.maxExpire = options.maxExpire ?? TOKEN_OPTION_DEFAULTS.maxExpire;
    this.minSecretBytes = options.minSecretBytes ?? TOKEN_OPTION_DEFAULTS.minSecretBytes;
  }

  async list(): Promise<TokenConfigViewDto[]> {
    const [configs, previous] = await Promise.all([this.store.list(), this.store.previousKeys()]);
    const now = this.clock.now();
    return configs.map((config) =>
      TokenConfigViewDto.of(
        config,
        previous.filter((row) => row.configName === config.name),
        now,
      ),
    );
  }

  async content(name: string): Promise<TokenConfigViewDto> {
    const config = await this.store.find(name);
    if (!config) throw configNotFound(name);
    return TokenConfigViewDto.of(config, await this.store.previousKeys(name), this.clock.now());
  }

  /**
   * Creates or replaces a configuration: omitted fields take their defaults, but secret and initpwd
   * are kept. Concurrent creations of one name: one creates it, the others are saved again, as
   * updates of it (after SAVE_ATTEMPTS, 409).
   */
  async save(dto: UpdateTokenConfigDto, actor: Actor): Promise<SaveOutcome> {
    return retryWhenRaced(SAVE_ATTEMPTS, () => this.saveAsFound(dto, actor));
  }

  private async saveAsFound(dto: UpdateTokenConfigDto, actor: Actor): Promise<SaveOutcome> {
    const existing = await this.store.find(dto.name);
    const algorithm: TokenAlgorithm = dto.algorithm ?? TOKEN_DEFAULTS.algorithm;
    // Kept when omitted, like the secret: falling back to "issuer" would throw a key pair away.
    const keyholder: KeyHolder = dto.keyholder ?? existing?.keyholder ?? 'issuer';
    if (keyholder === 'service' && isHmac(algorithm)) {
      throw badField(
        'keyholder',
        `must be "issuer" for ${algorithm}: an HMAC secret is shared, so the issuer holds it too`,
      );
    }
    const secret = this.secretFor(dto, existing, algorithm, keyholder);
    const warning = this.checkSecret(secret, algorithm, keyholder);
    const expire = dto.expire ?? TOKEN_DEFAULTS.expire;
    if (expire > this.maxExpire)
      throw badField('expire', `must be at most ${this.maxExpire} seconds`);
    const fieldmap = this.checkFieldMap(dto.fieldmap ?? { username: dto.name });
    const roles = splitRoles(dto.initroles ?? TOKEN_DEFAULTS.initroles);
    if (roles.types.length > 1) throw badField('initroles', 'may name at most one user type');
    // Whoever holds the secret signs tokens for any username: Administrators come from the user API only.
    if (roles.types.includes(ADMINISTRATOR)) {
      throw badField(
        'initroles',
        'cannot name Administrator: create Administrators through the user API',
      );
    }

    const now = this.clock.now();
    // The stored secret sent again is no new key: its kid and the versions in their overlap stay.
    const newSecret =
      dto.secret !== undefined &&
      dto.secret !== MASK &&
      !(existing && secretsEqual(dto.secret, this.store.openSecret(existing)));
    const { key, ...version } = await this.currentKey(
      dto,
      existing,
      algorithm,
      keyholder,
      newSecret,
      now,
    );
    const config = {
      name: dto.name,
      tokenName: dto.token_name ?? TOKEN_DEFAULTS.tokenName,
      expire,
      fieldmap,
      algorithm,
      keyholder,
      ...version,
      enabled: (dto.enable ?? TOKEN_DEFAULTS.enable) === '1',
      initUser: (dto.inituser ?? TOKEN_DEFAULTS.inituser) === '1',
      initRoles: [...roles.types, ...roles.roles],
      initPasswordHash: await this.initPasswordHash(dto.initpwd, existing),
      createdDate: existing?.createdDate ?? now,
      lastModifiedDate: now,
      creatorId: existing?.creatorId ?? actor.username,
    };
    await this.audit.recordChange(
      (manager) => this.store.save(config, secret, existing, key, manager),
      () => [
        {
          actor,
          action: existing ? 'token.update' : 'token.create',
          target: dto.name,
          details: {
            algorithm,
            keyholder,
            kid: config.kid ?? config.name,
            enable: dto.enable ?? TOKEN_DEFAULTS.enable,
            secretChanged: newSecret,
          },
        },
      ],
    );
    await this.store.changed([dto.name]);
    return { created: !existing, warning };
  }

  async delete(name: string, actor: Actor): Promise<void> {
    await this.audit.recordChange(
      async (manager) => {
        const [deleted] = await this.store.delete([name], manager);
        if (!deleted) throw configNotFound(name);
      },
      () => [{ actor, action: 'token.delete', target: name }],
    );
    await this.store.changed([name]);
  }

  /** Deletes every named configuration in one transaction; names that do not exist are skipped. */
  async deleteBatch(names: string[], actor: Actor): Promise<void> {
    if (names.length === 0) throw badField('body', 'must name at least one configuration');
    if (names.length > MAX_BATCH)
      throw badField('body', `may name at most ${MAX_BATCH} configurations`);
    const deleted = await this.audit.recordChange(
      (manager) => this.store.delete([...new Set(names)], manager),
      (deleted) => deleted.map((name) => ({ actor, action: 'token.delete', target: name })),
    );
    await this.store.changed(deleted);
  }

  /**
   * The current key a save leaves: a replaced key drops the versions in their overlap (a rotation
   * is what keeps them). A service-held configuration gets a new pair when it becomes one or
   * changes its algorithm, which signs at once: no token of that kid exists yet. A new secret of
   * a service-held configuration is only the credential generate checks: its pair stays. Every
   * key that replaces one gets a kid of its own; only an issuer-held first key is the name.
   */
  private async currentKey(
    dto: UpdateTokenConfigDto,
    existing: TokenConfigEntity | null,
    algorithm: TokenAlgorithm,
    keyholder: KeyHolder,
    newSecret: boolean,
    now: number,
  ): Promise<Pick<TokenConfigEntity, 'kid' | 'keyCreated' | 'signsFrom'> & { key: CurrentKey }> {
    const kept = {
      kid: existing?.kid ?? null,
      keyCreated: existing?.keyCreated ?? null,
      signsFrom: existing?.signsFrom ?? null,
    };
    if (keyholder === 'service') {
      if (existing?.keyholder === 'service' && existing.algorithm === algorithm)
        return { ...kept, key: { replaced: false, newSecret } };
      const signingKey = await generateSigningKey(algorithm);
      return {
        kid: newKid(dto.name),
        keyCreated: now,
        signsFrom: now,
        key: { signingKey, replaced: true, newSecret },
      };
    }
    const replaced =
      !existing ||
      existing.keyholder !== 'issuer' ||
      newSecret ||
      keyFamily(existing.algorithm) !== keyFamily(algorithm);
    if (!replaced) return { ...kept, key: { replaced: false, newSecret } };
    return {
      kid: existing ? newKid(dto.name) : null,
      keyCreated: existing ? now : null,
      signsFrom: null,
      key: { replaced: true, newSecret },
    };
  }

  private secretFor(
    dto: UpdateTokenConfigDto,
    existing: TokenConfigEntity | null,
    algorithm: TokenAlgorithm,
    keyholder: KeyHolder,
  ): string {
    if (dto.secret !== undefined && dto.secret !== MASK) return dto.secret;
    if (!existing) throw badField('secret', 'is required when creating a configuration');
    if (existing.keyholder !== keyholder) {
      throw badField(
        'secret',
        `must be sent again when the keyholder changes from ${existing.keyholder} to ${keyholder}`,
      );
    }
    if (keyholder === 'issuer' && keyFamily(existing.algorithm) !== keyFamily(algorithm)) {
      throw badField(
        'secret',
        `must be sent again when the algorithm changes from ${existing.algorithm} to ${algorithm}`,
      );
    }
    return this.store.openSecret(existing);
  }

  /**
   * Refuses what cannot be a key of the algorithm; answers a warning for a short HMAC secret. A
   * service-held configuration's secret is only a credential, held to the HMAC secrets' lengths.
   */
  checkSecret(
    secret: string,
    algorithm: TokenAlgorithm,
    keyholder: KeyHolder,
  ): string | undefined {
    if (keyholder === 'issuer') {
      try {
        keyFor(secret, algorithm);
      } catch (error) {
        if (error instanceof KeyFormatError) throw badField('secret', error.message);
        throw error;
      }
      if (!isHmac(algorithm)) return undefined;
    }
    const bytes = Buffer.byteLength(secret, 'utf8');
    if (bytes < this.minSecretBytes)
      throw badField('secret', `must be at least ${this.minSecretBytes} bytes long`);
    if (bytes < RECOMMENDED_SECRET_BYTES) {
      return `the secret is ${bytes} bytes long; ${RECOMMENDED_SECRET_BYTES} or more random bytes are recommended for ${algorithm}`;
    }
    return undefined;
  }

  private checkFieldMap(fieldmap: FieldMap): FieldMap {
    const entries = Object.entries(fieldmap).filter(([, claim]) => claim !== undefined);
    for (const [field, claim] of entries) {
      if (SERVICE_CLAIMS.has(claim))
        throw badField(`fieldmap.${field}`, `cannot be "${claim}": the service sets that claim`);
      if (entries.some(([other, value]) => other !== field && value === claim)) {
        throw badField(`fieldmap.${field}`, 'must differ from the other fieldmap claims');
      }
    }
    return Object.fromEntries(entries) as unknown as FieldMap;
  }

  private async initPasswordHash(
    initpwd: string | undefined,
    existing: TokenConfigEntity | null,
  ): Promise<string | null> {
    if (initpwd === '') return null;
    if (initpwd === undefined || initpwd === MASK) return existing?.initPasswordHash ?? null;
    return this.hasher.hash(initpwd);
  }
}
