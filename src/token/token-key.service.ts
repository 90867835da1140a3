import { ConflictException, Inject, Injectable } from '@nestjs/common';
import { type Actor, AuditService } from '../audit/audit.service';
import { type Clock, CLOCK } from '../common/clock';
import { badField } from '../common/http/bad-request';
import { MetricsService } from '../metrics/metrics.service';
import type { JwksDto } from './dto/jwks.dto';
import type { RotateKeyDto, RotateKeyResponseDto } from './dto/rotate-key.dto';
import type { TokenConfigEntity } from './entities/token-config.entity';
import { liveVersions } from './key-versions';
import { TokenConfigService } from './token-config.service';
import {
  configNotFound,
  retryWhenRaced,
  type PreviousKey,
  type ResolvedTokenConfig,
  TokenConfigStore,
} from './token-config.store';
import { generateSigningKey, newKid, publicJwk, secretsEqual } from './token-keys';
import { MASK, MAX_LIVE_KEY_VERSIONS } from './token.constants';
import {
  TOKEN_MODULE_OPTIONS,
  TOKEN_OPTION_DEFAULTS,
  type TokenModuleOptions,
} from './token.module-definition';

/** Rotations raced by concurrent ones, before a 409. */
const ROTATE_ATTEMPTS = 3;
/** How long one JWKS answer is reused: the set changes by rotations, retirements and the clock. */
const JWKS_REUSE_MS = 1000;
/**
 * Added to the JWKS's max-age before a rotated service-held key signs: the other instances learn
 * of the rotation within the fleet's bound (1 s), then may serve a set reused for JWKS_REUSE_MS.
 */
const PUBLISH_SLACK_MS = 2000;

const seconds = (millis: number) => Math.floor(millis / 1000);

/** The 409 of a rotation that would leave more than MAX_LIVE_KEY_VERSIONS live. */
export function tooManyKeyVersions(name: string, live: number): ConflictException {
  return new ConflictException(
    `token configuration ${name} has ${live} live key versions, the most it may have: token/retire ends the previous ones`,
  );
}

/**
 * Key versions (rotation without an outage): rotate a configuration's key with an overlap, retire
 * the previous versions at once, and publish the service-held public keys as a JWKS.
 */
@Injectable()
export class TokenKeyService {
  private readonly maxExpire: number;
  /** Seconds consumers may cache the JWKS. */
  readonly jwksMaxAge: number;
  /** Milliseconds a rotated service-held key is published before it signs. */
  private readonly publishFor: number;
  private jwksCache?: { from: ResolvedTokenConfig[]; until: number; set: JwksDto };

  constructor(
    private readonly store: TokenConfigStore,
    private readonly configs: TokenConfigService,
    private readonly audit: AuditService,
    private readonly metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Inject(TOKEN_MODULE_OPTIONS) options: TokenModuleOptions,
  ) {
    this.maxExpire = options.maxExpire ?? TOKEN_OPTION_DEFAULTS.maxExpire;
    this.jwksMaxAge = options.jwksMaxAge ?? TOKEN_OPTION_DEFAULTS.jwksMaxAge;
    this.publishFor = this.jwksMaxAge * 1000 + PUBLISH_SLACK_MS;
    metrics.watchKeyVersions(() => {
      const enabled = this.store.enabledAsLoaded();
      if (!enabled) {
        // Loaded after this scrape, for the next: a scrape never waits for, nor queries, the store.
        setImmediate(() => void this.store.resolveEnabled().catch(() => undefined));
        return undefined;
      }
      const now = this.clock.now();
      return enabled.flatMap((resolved) =>
        liveVersions(resolved, now).map(({ kid }) => ({ configuration: resolved.config.name, kid })),
      );
    });
  }

  /**
   * Makes a new key version current; the current one keeps verifying for the overlap. Concurrent
   * rotations of one configuration: each applies to the version it read, or is computed again.
   */
  async rotate(dto: RotateKeyDto, actor: Actor): Promise<RotateKeyResponseDto> {
    return retryWhenRaced(ROTATE_ATTEMPTS, () => this.rotateAsFound(dto, actor));
  }

  private async rotateAsFound(dto: RotateKeyDto, actor: Actor): Promise<RotateKeyResponseDto> {
    const config = await this.store.find(dto.name);
    if (!config) throw configNotFound(dto.name);
    const overlap = dto.overlap ?? Math.min(config.expire, this.maxExpire);
    if (overlap > this.maxExpire)
      throw badField('overlap', `must be at most ${this.maxExpire} seconds`);
    const service = config.keyholder === 'service';
    if (service && dto.secret !== undefined) {
      throw badField(
        'secret',
        'is not accepted for a service-held configuration: the service makes its next key pair (token/update changes the secret generate checks)',
      );
    }
    const { secret, warning } = service ? {} : this.newSecret(dto, config);
    const now = this.clock.now();
    const signsFrom = service ? now + this.publishFor : now;
    const retires = signsFrom + overlap * 1000;
    await this.checkRoom(config, now, retires > now);

    const kid = newKid(config.name);
    const created = config.keyCreated ?? config.createdDate;
    const current = { kid: config.kid ?? config.name, created };
    let next: Parameters<TokenConfigStore['rotate']>[2];
    let previous: PreviousKey;
    if (service) {
      next = {
        kid,
        keyCreated: now,
        signsFrom,
        lastModifiedDate: now,
        signingKey: await generateSigningKey(config.algorithm),
      };
      previous = {
        ...current,
        key: this.store.openSigningKey(config) ?? '',
        signsFrom: config.signsFrom ?? created,
        retires,
      };
    } else {
      next = { kid, keyCreated: now, signsFrom: null, lastModifiedDate: now, secret };
      previous = { ...current, key: this.store.openSecret(config), signsFrom: created, retires };
    }
    await this.audit.recordChange(
      (manager) => this.store.rotate(manager, config, next, previous, now),
      () => [
        {
          actor,
          action: 'token.rotate',
          target: config.name,
          details: { kid, previousKid: previous.kid, retires: seconds(previous.retires) },
        },
      ],
    );
    await this.store.changed([config.name]);
    this.metrics.keyChange(config.name, 'rotate');
    return {
      success: true,
      kid,
      signsFrom: seconds(next.signsFrom ?? now),
      previous: { kid: previous.kid, retires: seconds(previous.retires) },
      ...(warning ? { warning } : {}),
    };
  }

  /**
   * Refuses a rotation that would leave more than MAX_LIVE_KEY_VERSIONS live: the versions live now
   * and the new one, less the current one if an overlap of 0 retires it at once. Counted after the
   * row was read: a version added since then fails the rotation's write on the revision, and the
   * retry counts it.
   */
  private async checkRoom(
    config: TokenConfigEntity,
    now: number,
    currentStaysLive: boolean,
  ): Promise<void> {
    const live = 1 + (await this.store.countLiveKeys(config.name, now));
    if (live + (currentStaysLive ? 1 : 0) > MAX_LIVE_KEY_VERSIONS)
      throw tooManyKeyVersions(config.name, live);
  }

  /**
   * The new key of an issuer-held configuration, checked like update checks a secret (with its
   * warning for a short HMAC secret).
   */
  private newSecret(
    dto: RotateKeyDto,
    config: TokenConfigEntity,
  ): { secret: string; warning?: string } {
    if (dto.secret === undefined || dto.secret === MASK)
      throw badField('secret', "is required: the configuration's new key");
    const warning = this.configs.checkSecret(dto.secret, config.algorithm, config.keyholder);
    if (secretsEqual(dto.secret, this.store.openSecret(config)))
      throw badField('secret', 'must differ from the current one');
    return { secret: dto.secret, warning };
  }

  /** Ends the overlap of a configuration at once, on every instance: answers the kids retired. */
  async retire(name: string, actor: Actor): Promise<string[]> {
    const now = this.clock.now();
    const retired = await this.audit.recordChange(
      async (manager) => {
        const retired = await this.store.retire(manager, name, now);
        if (!retired) throw configNotFound(name);
        return retired;
      },
      (kids) => [
        { actor, action: 'token.retire', target: name, details: { kids: kids.join(' ') } },
      ],
    );
    await this.store.changed([name]);
    this.metrics.keyChange(name, 'retire');
    return retired;
  }

  /**
   * The public keys of the live versions of every enabled service-held configuration, including a
   * rotated key not signing yet: consumers learn it before they meet it. Never an HMAC secret or
   * an issuer's key.
   */
  async jwks(): Promise<JwksDto> {
    const enabled = await this.store.resolveEnabled();
    const now = this.clock.now();
    const cached = this.jwksCache;
    if (cached && cached.from === enabled && cached.until > now) return cached.set;
    const keys = enabled
      .filter(({ config }) => config.keyholder === 'service')
      .flatMap((resolved) =>
        liveVersions(resolved, now).flatMap((version) =>
          version.signingKey
            ? [publicJwk(version.signingKey, version.kid, resolved.config.algorithm)]
            : [],
        ),
      );
    const set = { keys };
    this.jwksCache = { from: enabled, until: now + JWKS_REUSE_MS, set };
    return set;
  }
}
