import { ConflictException, Inject, Injectable, OnModuleInit, Optional } from '@nestjs/common';
import { InjectRepository } from '@nestjs/typeorm';
import type { KeyObject } from 'node:crypto';
import { type EntityManager, In, Repository } from 'typeorm';
import { type ChangeBus, CHANGE_BUS } from '../changes/change-bus';
import { BoundedMap } from '../common/bounded-map';
import { MetricsService } from '../metrics/metrics.service';
import { SecretBox } from '../secrets/secret-box';
import { TokenConfigEntity } from './entities/token-config.entity';
import { keyFor } from './token-keys';

/** A configuration ready for use: its secret opened and its key object parsed once. */
export interface ResolvedTokenConfig {
  config: TokenConfigEntity;
  secret: string;
  key: KeyObject;
}

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
    @Inject(SecretBox) private readonly box: SecretBox,
    private readonly metrics: MetricsService,
    @Optional() @Inject(CHANGE_BUS) private readonly changes?: ChangeBus,
  ) {
    changes?.subscribe((change) => {
      if (change.kind === 'configs') this.forget(change.names);
      else if (change.kind === 'reset') this.forget();
    });
  }

  /** A wrong master key stops the start here, rather than failing every mint later. */
  async onModuleInit(): Promise<void> {
    for (const config of await this.configs.find()) this.box.open(config.secretSealed, config.name);
  }

  async resolve(name: string): Promise<ResolvedTokenConfig | undefined> {
    const cached = this.cache.get(name);
    this.metrics.cacheLookup('configurations');
    if (cached && cached.until > Date.now()) return cached.resolved;
    this.metrics.cacheMiss('configurations');
    const generation = this.generation;
    const config = await this.configs.findOneBy({ name });
    const resolved = config ? this.open(config) : undefined;
    if (generation !== this.generation) return resolved;
    this.cache.set(name, { resolved, until: Date.now() + CACHE_TTL_MS });
    return resolved;
  }

  /** Every enabled configuration, opened: the candidates for a token that names none. */
  async resolveEnabled(): Promise<ResolvedTokenConfig[]> {
    return (await this.enabledConfigs()).resolved;
  }

  /** The query parameter names that may carry a token: those of the enabled configurations. */
  async tokenNames(): Promise<Set<string>> {
    return (await this.enabledConfigs()).tokenNames;
  }

  private async enabledConfigs(): Promise<EnabledConfigs> {
    if (this.enabled && this.enabled.until > Date.now()) return this.enabled;
    const generation = this.generation;
    const configs = await this.configs.find({ where: { enabled: true }, order: { name: 'ASC' } });
    const resolved = configs.map((config) => this.open(config));
    const tokenNames = new Set(resolved.map(({ config }) => config.tokenName));
    const enabled = { resolved, tokenNames, until: Date.now() + CACHE_TTL_MS };
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

  /**
   * Creates or replaces a configuration, in the caller's transaction, as the caller computed it
   * from the row it found: `existed` says whether there was one. A configuration created meanwhile
   * fails it with a unique violation, one deleted meanwhile with ConfigChangedError: the caller
   * computes it again.
   */
  async save(
    config: Omit<TokenConfigEntity, 'secretSealed'>,
    secret: string,
    existed: boolean,
    manager: EntityManager = this.configs.manager,
  ): Promise<void> {
    const sealed = { ...config, secretSealed: this.box.seal(secret, config.name) };
    // A plain INSERT or UPDATE, never a read-then-write `save`: a row created meanwhile fails the
    // INSERT (a unique violation), and one deleted meanwhile leaves the UPDATE nothing to change.
    if (!existed) {
      await manager.insert(TokenConfigEntity, sealed);
      return;
    }
    const { name, ...fields } = sealed;
    const { affected } = await manager.update(TokenConfigEntity, { name }, fields);
    if (affected === 0) throw new ConfigChangedError(config.name);
  }

  /** Deletes the named configurations (in the caller's transaction); answers the names that existed. */
  async delete(names: string[], manager: EntityManager): Promise<string[]> {
    const found = await manager.find(TokenConfigEntity, {
      where: { name: In(names) },
      select: { name: true },
    });
    if (found.length > 0)
      await manager.delete(TokenConfigEntity, { name: In(found.map((c) => c.name)) });
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

  private open(config: TokenConfigEntity): ResolvedTokenConfig {
    const secret = this.box.open(config.secretSealed, config.name);
    return { config, secret, key: keyFor(secret, config.algorithm) };
  }
}
