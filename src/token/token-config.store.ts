import {
  ConflictException,
  Inject,
  Injectable,
  NotFoundException,
  OnModuleInit,
  Optional,
} from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { type EntityManager, In, LessThanOrEqual, MoreThan, Repository } from 'typeorm';
import { type ChangeBus, CHANGE_BUS } from '../changes/change-bus';
import { BoundedMap } from '../common/bounded-map';
import { type Clock, CLOCK } from '../common/clock';
import { isUniqueViolation } from '../common/storage-failure';
import { MetricsService } from '../metrics/metrics.service';
import { SecretBox } from '../secrets/secret-box';
import { TokenConfigEntity } from './entities/token-config.entity';
import { TokenKeyEntity } from './entities/token-key.entity';
import { keyFor } from './token-keys';

/** One key version of a configuration, opened and parsed once. */
export interface KeyVersion {
  kid: string;
  /** What checks a signature: the HMAC secret, the issuer's public key or the service's. */
  verifyKey: KeyObject;
  /** A service-held version's private key. */
  signingKey?: KeyObject;
  /** An issuer-held version's secret: what `privateKey` may equal at mint (HS*). */
  secret?: string;
  /** Epoch milliseconds, as every instant here. */
  created: number;
  signsFrom: number;
  /** Unset for the current version. */
  retires?: number;
}

/** A configuration ready for use: its secret opened and its key versions parsed once. */
export interface ResolvedTokenConfig {
  config: TokenConfigEntity;
  /** What the ERP proves at mint (for an issuer-held key, the current key itself). */
  secret: string;
  /** Newest first: the current version, then those in their overlap when it was read. */
  versions: KeyVersion[];
}

/** What a save writes of the current key, besides the secret. */
export interface CurrentKey {
  /** A service-held configuration's new private key (PKCS#8 PEM). */
  signingKey?: string;
  /**
   * The key was replaced (a new secret, a new pair, another keyholder or key family): its columns
   * are written and the versions in their overlap deleted. Else the key is left as stored, so
   * that a save never undoes a rotation committed after it read the row.
   */
  replaced: boolean;
  /**
   * A new secret was sent: it is written even when the key is not replaced (a service-held
   * configuration's credential, which no rotation writes).
   */
  newSecret: boolean;
}

/** A version leaving the configuration's row for `token_keys`, in clear: the store seals it. */
export interface PreviousKey {
  kid: string;
  key: string;
  created: number;
  signsFrom: number;
  retires: number;
}

/** Sealing contexts: a sealed key opens only on the row, and in the role, it was sealed for. */
export const signingKeyContext = (kid: string) => `${kid} signing key`;
export const previousKeyContext = (kid: string) => `${kid} previous key`;

interface EnabledConfigs {
  resolved: ResolvedTokenConfig[];
  tokenNames: Set<string>;
  until: number;
}

/** A configuration created or deleted by a concurrent request, after the caller read it. */
export class ConfigChangedError extends ConflictException {
  constructor(name: string) {
    super(`token configuration ${name} was changed by a concurrent request: try again`);
  }
}

/**
 * Runs `work` again, up to `attempts` times in all, when a concurrent write raced it (a
 * ConfigChangedError, or a unique violation of a row created meanwhile): it reads afresh each time.
 */
export async function retryWhenRaced<T>(attempts: number, work: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      const raced = error instanceof ConfigChangedError || isUniqueViolation(error);
      if (!raced || attempt >= attempts) throw error;
    }
  }
}

/** The 404 of a request that names a configuration that does not exist. */
export function configNotFound(name: string): NotFoundException {
  return new NotFoundException(`token configuration ${name} does not exist`);
}

/** A safety net: changes made by another instance are announced (CHANGE_BUS), else seen within this time. */
const CACHE_TTL_MS = 5000;
/** Names asked for, found or not: bounded, since a token's kid is the caller's choice. */
const MAX_CACHED = 1000;

/**
 * Persistence of token configurations. Secrets are sealed on the way in and opened on the way out;
 * resolved configurations are cached, and every write through this store drops its entry at once.
 */
@Injectable()
export class TokenConfigStore implements OnModuleInit {
  private readonly cache = new BoundedMap<
    string,
    { resolved: ResolvedTokenConfig | undefined; until: number }
  >(MAX_CACHED);
  private enabled?: EnabledConfigs;
  /** Bumped by every drop, so that a read begun before it does not cache what it found. */
  private generation = 0;

  constructor(
    @InjectRepository(TokenConfigEntity) private readonly configs: Repository<TokenConfigEntity>,
    @InjectRepository(TokenKeyEntity) private readonly keys: Repository<TokenKeyEntity>,
    @Inject(SecretBox) private readonly box: SecretBox,
    private readonly metrics: MetricsService,
    @Inject(CLOCK) private readonly clock: Clock,
    @Optional() @Inject(CHANGE_BUS) private readonly changes?: ChangeBus,
  ) {
    changes?.subscribe((change) => {
      if (change.kind === 'configs') this.forget(change.names);
      else if (change.kind === 'reset') this.forget();
    });
  }

  /** A wrong master key stops the start here, rather than failing every mint later. */
  async onModuleInit(): Promise<void> {
    for (const config of await this.configs.find()) {
      this.box.open(config.secretSealed, config.name);
      this.openSigningKey(config);
    }
    for (const row of await this.liveKeys()) this.box.open(row.keySealed, previousKeyContext(row.kid));
  }

  async resolve(name: string): Promise<ResolvedTokenConfig | undefined> {
    const cached = this.cache.get(name);
    this.metrics.cacheLookup('configurations');
    if (cached && cached.until > this.clock.now()) return cached.resolved;
    this.metrics.cacheMiss('configurations');
    const generation = this.generation;
    const config = await this.configs.findOneBy({ name });
    const resolved = config
      ? this.open(config, await this.liveKeys(name))
      : undefined;
    if (generation !== this.generation) return resolved;
    this.cache.set(name, { resolved, until: this.clock.now() + CACHE_TTL_MS });
    return resolved;
  }

  /** Every enabled configuration, opened: the candidates for a token that names none. */
  async resolveEnabled(): Promise<ResolvedTokenConfig[]> {
    return (await this.enabledConfigs()).resolved;
  }

  /** The enabled configurations as last loaded, however old; undefined once a change dropped them. */
  enabledAsLoaded(): ResolvedTokenConfig[] | undefined {
    return this.enabled?.resolved;
  }

  /** The query parameter names that may carry a token: those of the enabled configurations. */
  async tokenNames(): Promise<Set<string>> {
    return (await this.enabledConfigs()).tokenNames;
  }

  private async enabledConfigs(): Promise<EnabledConfigs> {
    if (this.enabled && this.enabled.until > this.clock.now()) return this.enabled;
    const generation = this.generation;
    const configs = await this.configs.find({ where: { enabled: true }, order: { name: 'ASC' } });
    const rows = configs.length > 0 ? await this.liveKeys() : [];
    const resolved = configs.map((config) =>
      this.open(
        config,
        rows.filter((row) => row.configName === config.name),
      ),
    );
    const tokenNames = new Set(resolved.map(({ config }) => config.tokenName));
    const enabled = { resolved, tokenNames, until: this.clock.now() + CACHE_TTL_MS };
    if (generation === this.generation) this.enabled = enabled;
    return enabled;
  }

  find(name: string): Promise<TokenConfigEntity | null> {
    return this.configs.findOneBy({ name });
  }

  list(): Promise<TokenConfigEntity[]> {
    return this.configs.find({ order: { name: 'ASC' } });
  }

  openSecret(config: TokenConfigEntity): string {
    return this.box.open(config.secretSealed, config.name);
  }

  /** The rows of `token_keys` not retired yet (of one configuration, or all): only those are opened. */
  private liveKeys(name?: string): Promise<TokenKeyEntity[]> {
    return this.keys.findBy({
      ...(name === undefined ? {} : { configName: name }),
      retires: MoreThan(this.clock.now()),
    });
  }

  /** How many of a configuration's versions in `token_keys` are live at `now`. */
  countLiveKeys(name: string, now: number): Promise<number> {
    return this.keys.countBy({ configName: name, retires: MoreThan(now) });
  }

  /** The versions of one configuration, or all, in `token_keys`: live or retired, newest first. */
  previousKeys(name?: string): Promise<TokenKeyEntity[]> {
    return this.keys.find({
      where: name === undefined ? {} : { configName: name },
      order: { created: 'DESC' },
    });
  }

  /** A service-held configuration's private key, in clear (PKCS#8 PEM). */
  openSigningKey(config: TokenConfigEntity): string | undefined {
    return config.signingKeySealed && config.kid
      ? this.box.open(config.signingKeySealed, signingKeyContext(config.kid))
      : undefined;
  }

  /**
   * Creates or replaces a configuration, in the caller's transaction, as the caller computed it
   * from the row it found (`read`, null when there was none). A configuration created meanwhile
   * fails it with a unique violation, one deleted meanwhile with ConfigChangedError, and the caller
   * computes it again. Concurrent saves of one configuration: the last one wins, as with any
   * upsert; each bumps the revision, so that a rotation that read the row before applies no more.
   */
  async save(
    config: Omit<TokenConfigEntity, 'secretSealed' | 'signingKeySealed' | 'revision'>,
    secret: string,
    read: TokenConfigEntity | null,
    key: CurrentKey,
    manager: EntityManager = this.configs.manager,
  ): Promise<void> {
    const { kid, keyCreated, signsFrom, ...rest } = config;
    const secretSealed = this.box.seal(secret, config.name);
    const keyColumns = {
      kid,
      keyCreated,
      signsFrom,
      secretSealed,
      // An issuer-held configuration keeps no private key of the service's.
      signingKeySealed:
        config.keyholder === 'issuer'
          ? null
          : (this.sealedSigningKey(config, key.signingKey).signingKeySealed ?? null),
    };
    if (!read) {
      await manager.insert(TokenConfigEntity, { ...rest, ...keyColumns, revision: 0 });
      return;
    }
    const { name, ...fields } = rest;
    const { affected } = await manager.update(
      TokenConfigEntity,
      { name },
      {
        ...fields,
        ...(key.replaced ? keyColumns : key.newSecret ? { secretSealed } : {}),
        revision: () => 'revision + 1',
      },
    );
    if (affected === 0) throw new ConfigChangedError(name);
    if (key.replaced) await manager.delete(TokenKeyEntity, { configName: name });
  }

  /**
   * Makes `next` the configuration's current key and `previous` a version in its overlap, if the
   * row is still the revision the caller read (else ConfigChangedError: a concurrent write won).
   * Versions whose overlap has ended are deleted on the way.
   */
  async rotate(
    manager: EntityManager,
    read: TokenConfigEntity,
    next: Pick<TokenConfigEntity, 'kid' | 'keyCreated' | 'signsFrom' | 'lastModifiedDate'> & {
      secret?: string;
      signingKey?: string;
    },
    previous: PreviousKey,
    now: number,
  ): Promise<void> {
    const { secret, signingKey, ...fields } = next;
    await this.write(manager, read, {
      ...fields,
      ...(secret === undefined ? {} : { secretSealed: this.box.seal(secret, read.name) }),
      ...this.sealedSigningKey(next, signingKey),
    });
    await manager.delete(TokenKeyEntity, {
      configName: read.name,
      retires: LessThanOrEqual(now),
    });
    await manager.insert(TokenKeyEntity, {
      kid: previous.kid,
      configName: read.name,
      keySealed: this.box.seal(previous.key, previousKeyContext(previous.kid)),
      created: previous.created,
      signsFrom: previous.signsFrom,
      retires: previous.retires,
    });
  }

  /**
   * Ends every overlap of a configuration at once: its previous versions are deleted, and a
   * service-held key waiting to sign signs from `now`. Answers the kids retired, or undefined when
   * the configuration does not exist. The row is written first: that bumps its revision (a
   * rotation that read it before applies no more) and, on PostgreSQL, waits for one in flight.
   */
  async retire(manager: EntityManager, name: string, now: number): Promise<string[] | undefined> {
    const { affected } = await manager
      .createQueryBuilder()
      .update(TokenConfigEntity)
      .set({ revision: () => 'revision + 1' })
      .where('name = :name', { name })
      .execute();
    if (!affected) return undefined;
    await manager
      .createQueryBuilder()
      .update(TokenConfigEntity)
      .set({ signsFrom: now })
      .where('name = :name AND signs_from > :now', { name, now })
      .execute();
    const retired = await manager.find(TokenKeyEntity, {
      where: { configName: name },
      select: { kid: true, retires: true },
    });
    await manager.delete(TokenKeyEntity, { configName: name });
    return retired.filter((row) => row.retires > now).map((row) => row.kid);
  }

  /** Writes `fields` on the row if it is still the revision `read`, bumping it. */
  private async write(
    manager: EntityManager,
    read: TokenConfigEntity,
    fields: Partial<TokenConfigEntity>,
  ): Promise<void> {
    const { affected } = await manager.update(
      TokenConfigEntity,
      { name: read.name, revision: read.revision },
      { ...fields, revision: read.revision + 1 },
    );
    if (affected === 0) throw new ConfigChangedError(read.name);
  }

  private sealedSigningKey(
    config: Pick<TokenConfigEntity, 'kid'>,
    signingKey: string | undefined,
  ): { signingKeySealed?: string } {
    if (signingKey === undefined || !config.kid) return {};
    return { signingKeySealed: this.box.seal(signingKey, signingKeyContext(config.kid)) };
  }

  /** Deletes the named configurations (in the caller's transaction); answers the names that existed. */
  async delete(names: string[], manager: EntityManager): Promise<string[]> {
    const found = await manager.find(TokenConfigEntity, {
      where: { name: In(names) },
      select: { name: true },
    });
    if (found.length > 0) {
      const deleted = In(found.map((c) => c.name));
      // The rows first: on PostgreSQL that waits for a rotation in flight, whose key row the
      // second statement then sees and deletes too (no key outlives its configuration).
      await manager.delete(TokenConfigEntity, { name: deleted });
      await manager.delete(TokenKeyEntity, { configName: deleted });
    }
    return found.map((c) => c.name);
  }

  /**
   * Once a change to these configurations is committed: drops them here and announces them to
   * the other instances. Before the commit, a reload would only cache the old rows again.
   */
  async changed(names: string[]): Promise<void> {
    this.forget(names);
    if (names.length > 0) await this.changes?.publish({ kind: 'configs', names });
  }

  /** Drops the named configurations, or every one without names. */
  private forget(names?: string[]): void {
    this.generation += 1;
    if (names) for (const name of names) this.cache.delete(name);
    else this.cache.clear();
    this.enabled = undefined;
  }

  private open(config: TokenConfigEntity, rows: TokenKeyEntity[]): ResolvedTokenConfig {
    const secret = this.box.open(config.secretSealed, config.name);
    const created = config.keyCreated ?? config.createdDate;
    const current: KeyVersion =
      config.keyholder === 'service'
        ? this.serviceVersion(
            config.kid ?? config.name,
            this.openSigningKey(config) ?? '',
            created,
            config.signsFrom ?? created,
          )
        : {
            kid: config.kid ?? config.name,
            verifyKey: keyFor(secret, config.algorithm),
            secret,
            created,
            signsFrom: created,
          };
    // Whether a row is live at a given instant is for the caller to say (its clock).
    const previous = [...rows]
      .sort((a, b) => b.created - a.created)
      .map((row): KeyVersion => {
        const key = this.box.open(row.keySealed, previousKeyContext(row.kid));
        const version =
          config.keyholder === 'service'
            ? this.serviceVersion(row.kid, key, row.created, row.signsFrom)
            : { kid: row.kid, verifyKey: keyFor(key, config.algorithm), secret: key };
        return { ...version, created: row.created, signsFrom: row.signsFrom, retires: row.retires };
      });
    return { config, secret, versions: [current, ...previous] };
  }

  private serviceVersion(kid: string, pem: string, created: number, signsFrom: number): KeyVersion {
    const signingKey = createPrivateKey(pem);
    return { kid, signingKey, verifyKey: createPublicKey(signingKey), created, signsFrom };
  }
}
